// Copyright (c) 2026, legacy_dispatch contributors
// License: MIT. See license.txt

frappe.ui.form.on("Legacy Dispatch Settings", {
	setup(frm) {
		frappe.realtime.on("legacy_dispatch_done", (out) => frm.events.done(frm, out));
	},

	done(frm, out) {
		if (frm.shown_log === out.log) return; // realtime and polling both saw it
		frm.shown_log = out.log;
		frappe.hide_progress();
		show_result(out);
		frm.events.show_health(frm);
	},

	refresh(frm) {
		frm.add_custom_button(__("Test connection"), () => {
			frm.call({ doc: frm.doc, method: "test_connection", freeze: true }).then(({ message: r }) => {
				if (r.ok) {
					const writer = r.writer ? `<br>${__("Write-back user")}: ${r.writer}` : "";
					frappe.msgprint({
						title: __("Connection OK"),
						indicator: "green",
						message: __("Legacy server {0}: {1} open tickets selected.", [r.version, r.open_tickets]) + writer,
					});
				} else {
					frappe.msgprint({ title: __("Connection failed"), indicator: "red", message: r.reason });
				}
			});
		}, __("Legacy"));
		frm.add_custom_button(__("Load departments"), () => {
			frm.call({ doc: frm.doc, method: "load_departments", freeze: true }).then(() => {
				frm.dirty();
				frm.refresh_field("departments");
				frappe.show_alert({ message: __("Departments loaded: review them, then save."), indicator: "blue" });
			});
		}, __("Legacy"));
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
				if (message.queued) {
					frappe.show_progress(__("Legacy sync"), 0, 100, __("Queued…"));
					poll_run(frm, message.since);
				}
			});
		});
		frm.page.set_indicator(
			frm.doc.enabled ? __("Automatic sync every {0} min", [frm.doc.sync_period]) : __("Automatic sync off"),
			frm.doc.enabled ? "green" : "gray"
		);
		frm.events.show_health(frm);
		frm.events.source_profile(frm);
	},

	source_profile(frm) {
		frm.get_field("writeback_unavailable").$wrapper.html(
			`<div class="alert alert-info">${__("Write-back is unavailable with the {0} source: only gestionclient tickets can be written back.", [frm.doc.source_profile])}</div>`
		);
	},

	show_health(frm) {
		frappe.call({ method: "legacy_dispatch.api.health", type: "GET" }).then(({ message: h }) => {
			const run = (log) =>
				log
					? `<a href="/app/sync-log/${log.name}">${frappe.datetime.str_to_user(log.started)}</a> —
					   ${__(log.status)}: ${__("{0} tickets, {1} created, {2} updated, {3} cancelled, {4} errors",
						[log.tickets, log.created, log.updated, log.cancelled, log.errors])}`
					: __("never");
			const warnings = h.warnings
				.map((w) => `<div class="alert alert-warning">${frappe.utils.escape_html(w)}</div>`)
				.join("");
			frm.get_field("health_html").$wrapper.html(`
				${warnings || `<div class="alert alert-success">${__("All good.")}</div>`}
				<p>${__("Automatic sync")}: <b>${h.enabled ? __("on, every {0} minutes", [h.period]) : __("Disabled")}</b></p>
				<p>${__("Last run")}: ${run(h.last_run)}</p>
				<p>${__("Last success")}: ${run(h.last_success)}</p>
				${writeback(h.writeback)}`);
		});
	},
});

function writeback(wb) {
	if (!wb.enabled && !wb.pending) return "";
	const since = wb.since ? __("oldest since {0}", [frappe.datetime.str_to_user(wb.since)]) : "";
	return `<p>${__("Write-back to legacy")}: <b>${__("{0} pending", [wb.pending])}</b> ${since}
		· <a href="/app/legacy-write-back?status=Conflict">${__("{0} not written in the last 24 h", [wb.not_written])}</a></p>`;
}

// Without socket.io the realtime event never comes: ask for the run's Sync Log instead.
function poll_run(frm, queued_at) {
	const check = () =>
		frappe.call({ method: "legacy_dispatch.api.run_since", args: { since: queued_at }, type: "GET" }).then(({ message: out }) => {
			if (frm.shown_log && out && frm.shown_log === out.log) return;
			if (out && out.status !== "Running") frm.events.done(frm, out);
			else setTimeout(check, 3000);
		});
	setTimeout(check, 3000);
}

function show_result(out) {
	frappe.msgprint({
		title: __("Legacy sync: {0}", [__(out.status)]),
		indicator: { Success: "green", Partial: "orange", Failed: "red" }[out.status] || "gray",
		message: `${__("{0} tickets: {1} created, {2} updated, {3} cancelled, {4} unchanged, {5} skipped, {6} errors.",
			[out.tickets, out.created, out.updated, out.cancelled, out.unchanged, out.skipped, out.errors])}
			${out.status !== "Success" && out.message ? `<br>${frappe.utils.escape_html(out.message)}` : ""}
			<br><a href="/app/sync-log/${out.log}">${__("Open the Sync Log")}</a>`,
	});
}

function show_preview(plan) {
	const counts = ["created", "adopted", "updated", "cancelled", "unchanged", "skipped", "ignored"]
		.map((key) => `${__(frappe.unscrub(key))}: <b>${plan[key]}</b>`)
		.join(" · ");
	const unmatched = plan.unmatched_accounts.length
		? `<p>${__("{0} tickets of {1} legacy accounts have no Customer: {2}", [
				plan.unmatched_customer,
				plan.unmatched_accounts.length,
				plan.unmatched_accounts.join(", "),
			])} <a href="/app/query-report/Unmatched Customers">${__("Unmatched Customers")}</a></p>`
		: "";
	const actions = ["create", "adopt", "update", "cancel", "skip", "ignore", "error", "unchanged"];
	const dialog = new frappe.ui.Dialog({
		title: __("Legacy sync preview"),
		size: "extra-large",
		fields: [
			{ fieldtype: "HTML", fieldname: "summary", options: `<p>${counts}</p>${unmatched}` },
			{
				fieldtype: "Select",
				fieldname: "action",
				label: __("Action"),
				options: [{ value: "", label: __("All") }, ...actions.map((a) => ({ value: a, label: __(a) }))],
				change: () => render(dialog.get_value("action")),
			},
			{ fieldtype: "HTML", fieldname: "table" },
			{ fieldtype: "HTML", fieldname: "writeback", options: pending_writebacks(plan.writeback) },
		],
	});
	const esc = (text) => frappe.utils.escape_html(text || "");
	const order = (t) => actions.indexOf(t.action);
	const tickets = [...plan.tickets_detail].sort((a, b) => order(a) - order(b) || a.legacy_ticket_id - b.legacy_ticket_id);
	function render(action) {
		const rows = tickets
			.filter((t) => !action || t.action === action)
			.map(
				(t) => `<tr>
					<td class="text-nowrap">LEG-${esc(t.legacy_ticket_id)}</td>
					<td class="text-nowrap">${__(t.action)}</td>
					<td class="text-nowrap">${esc(t.reason)}${t.warnings.length ? `<br><small class="text-warning">${t.warnings.map(esc).join("<br>")}</small>` : ""}</td>
					<td>${esc(t.subject)}</td>
					<td>${t.customer ? esc(t.customer_name || t.customer) : `<span class="text-muted">${__(t.customer_match || "")}</span>`}</td>
					<td>${t.service_location ? esc(t.location_name || t.service_location) : `<span class="text-muted">${__(t.location_match || "")}</span>`}</td>
				</tr>`
			)
			.join("");
		dialog.get_field("table").$wrapper.html(`
			<div style="max-height: 60vh; overflow-y: auto">
			<table class="table table-bordered table-sm" style="table-layout: auto; font-size: var(--text-sm)">
				<thead><tr><th>${__("Ticket")}</th><th>${__("Action")}</th><th>${__("Reason")}</th>
				<th>${__("Subject")}</th><th>${__("Customer")}</th><th>${__("Service Location")}</th></tr></thead>
				<tbody>${rows}</tbody>
			</table></div>`);
	}
	render("");
	dialog.$wrapper.find(".modal-dialog").css({ "max-width": "min(1360px, 96vw)" });
	dialog.show();
}

function pending_writebacks(wb) {
	if (!wb.pending) return "";
	const esc = (text) => frappe.utils.escape_html(String(text ?? ""));
	const rows = wb.detail
		.map(
			(w) => `<tr><td>LEG-${esc(w.legacy_ticket_id)}</td><td>${esc(w.dispatch_job)}</td>
				<td>${Object.entries(w.new_values).map(([k, v]) => `${esc(k)} = ${esc(v)}`).join(", ")}</td>
				<td>${frappe.datetime.str_to_user(w.creation)}</td><td>${esc(w.message)}</td></tr>`
		)
		.join("");
	return `<h5>${__("Pending write-backs to legacy: {0}", [wb.pending])}</h5>
		<table class="table table-bordered table-sm"><thead><tr><th>${__("Ticket")}</th><th>${__("Dispatch Job")}</th>
		<th>${__("New Values")}</th><th>${__("Since")}</th><th>${__("Message")}</th></tr></thead><tbody>${rows}</tbody></table>`;
}
