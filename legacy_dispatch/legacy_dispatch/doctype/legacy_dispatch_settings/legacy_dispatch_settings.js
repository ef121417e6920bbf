// Copyright (c) 2026, legacy_dispatch contributors
// License: MIT. See license.txt

frappe.ui.form.on("Legacy Dispatch Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Preview"), () => {
			frappe.call({
				method: "legacy_dispatch.api.preview",
				type: "GET",
				freeze: true,
				freeze_message: __("Reading the legacy database…"),
			}).then(({ message: plan }) => show_preview(plan));
		});
		frm.add_custom_button(__("Run legacy sync"), () => {
			frappe.call({ method: "legacy_dispatch.api.enqueue_run" }).then(({ message }) => {
				frappe.show_alert({ message: message.message, indicator: message.queued ? "green" : "orange" });
			});
		}).addClass("btn-primary");
	},
});

function show_preview(plan) {
	const counts = ["created", "updated", "cancelled", "unchanged", "skipped", "unmatched_customer"]
		.map((key) => `${__(key)}: <b>${plan[key]}</b>`)
		.join(" · ");
	const rows = plan.tickets_detail
		.map(
			(t) => `<tr>
				<td>LEG-${frappe.utils.escape_html(t.legacy_ticket_id)}</td>
				<td>${__(t.action)}</td>
				<td>${frappe.utils.escape_html(t.reason)}</td>
				<td>${frappe.utils.escape_html(t.subject || "")}</td>
				<td>${__(t.customer_match || "")} ${frappe.utils.escape_html(t.customer || "")}</td>
				<td>${__(t.location_match || "")} ${frappe.utils.escape_html(t.service_location || "")}</td>
			</tr>`
		)
		.join("");
	const dialog = new frappe.ui.Dialog({ title: __("Legacy sync preview"), size: "extra-large" });
	dialog.$body.html(`<p>${counts}</p>
		<table class="table table-bordered table-sm">
			<thead><tr><th>${__("Ticket")}</th><th>${__("Action")}</th><th>${__("Reason")}</th>
			<th>${__("Subject")}</th><th>${__("Customer")}</th><th>${__("Service Location")}</th></tr></thead>
			<tbody>${rows}</tbody>
		</table>`);
	dialog.show();
}
