// Copyright (c) 2026, legacy_dispatch contributors
// License: MIT. See license.txt

// A bridge job's form says who owns it (the bridge, in step with its legacy ticket, or
// dispatch), links to the ticket, offers to hand it back or to update it from legacy now,
// and says whether the write-back has brought the ticket in step.
frappe.ui.form.on("Dispatch Job", {
	refresh(frm) {
		if (frm.is_new() || !(frm.doc.legacy_ticket_id || /^LEG-\d+$/.test(frm.doc.ticket_id || ""))) return;
		frappe
			.call({ method: "legacy_dispatch.api.legacy_state", args: { job: frm.doc.name }, type: "GET" })
			.then(({ message: s }) => s.ticket && show_legacy_state(frm, s));
	},
});

function show_legacy_state(frm, s) {
	const esc = frappe.utils.escape_html;
	const ticket = s.url
		? `<a href="${esc(s.url)}" target="_blank" rel="noopener">${__("legacy ticket #{0}", [s.ticket])}</a>`
		: __("legacy ticket #{0}", [s.ticket]);
	let line, color;
	if (s.in_step) {
		[line, color] = [__("Kept in step with {0}.", [ticket]), "green"];
	} else if (s.adoptable) {
		[line, color] = [__("Made outside the bridge: the next run takes it over and keeps it in step with {0}.", [ticket]), "blue"];
	} else {
		const since = s.since ? ` ${__("(since {0})", [frappe.datetime.str_to_user(s.since)])}` : "";
		line = __("Dispatch owns this job: {0}{1} — changes to {2} are no longer applied.", [esc(s.reason), since, ticket]);
		color = "orange";
	}
	const wb = writeback_line(s);
	frm.set_intro(`${line}${wb ? `<br>${wb}` : ""}`, color);

	const group = __("Legacy");
	if (s.can_hand_back && frm.perm[0]?.write) {
		frm.add_custom_button(__("Hand back to the bridge"), () => {
			frappe.confirm(
				__("The bridge will keep this job in step with legacy ticket #{0} again: legacy changes overwrite its date, time, subject and priority from the next run. Go on?", [s.ticket]),
				() => frappe.call({ method: "legacy_dispatch.api.hand_back", args: { job: frm.doc.name }, freeze: true }).then(() => {
					frappe.show_alert({ message: __("Handed back to the bridge."), indicator: "green" });
					frm.reload_doc();
				})
			);
		}, group);
	}
	if (frm.perm[0]?.write) {
		frm.add_custom_button(__("Update from legacy now"), () => {
			frappe
				.call({ method: "legacy_dispatch.api.update_now", args: { job: frm.doc.name }, freeze: true, freeze_message: __("Reading the legacy ticket…") })
				.then(({ message: r }) => {
					const changes = Object.entries(r.changes)
						.map(([field, value]) => `<li>${esc(__(frappe.meta.get_label("Dispatch Job", field)))}: <b>${esc(value ?? "")}</b></li>`)
						.join("");
					frappe.msgprint({
						title: __("Update from legacy: {0}", [__(r.action)]),
						indicator: changes ? "green" : "blue",
						message: `${esc(r.reason)}${changes ? `<ul>${changes}</ul>` : `<p>${__("Nothing changed.")}</p>`}`,
					});
					frm.reload_doc();
				});
		}, group);
	}
}

function writeback_line(s) {
	const w = s.writeback;
	if (!w || !w.writeback) return "";
	const last = w.last;
	if (w.pending) return __("Write-back: {0} change(s) waiting to be written to the ticket.", [w.pending]);
	if (last && ["Conflict", "Refused"].includes(last.status)) {
		return __("Write-back: the ticket was not updated ({0}): {1}", [__(last.status), frappe.utils.escape_html(last.message || "")]);
	}
	if (last) {
		return __("Write-back: the ticket is in step ({0} written on {1}).", [last.columns, frappe.datetime.str_to_user(last.modified)]);
	}
	return "";
}
