// Copyright (c) 2026, legacy_dispatch contributors
// License: MIT. See license.txt

// A bridge job's form says whether its legacy ticket is in step with what dispatch decided.
frappe.ui.form.on("Dispatch Job", {
	refresh(frm) {
		if (frm.is_new() || !frm.doc.legacy_ticket_id) return;
		frappe
			.call({ method: "legacy_dispatch.api.legacy_state", args: { job: frm.doc.name }, type: "GET" })
			.then(({ message: s }) => {
				if (!s.writeback) return;
				const last = s.last;
				if (s.pending) {
					frm.set_intro(__("Legacy ticket #{0}: {1} change(s) waiting to be written back.", [s.ticket, s.pending]), "orange");
				} else if (last && ["Conflict", "Refused"].includes(last.status)) {
					frm.set_intro(
						__("Legacy ticket #{0} was not updated ({1}): {2}", [s.ticket, __(last.status), last.message]),
						"red"
					);
				} else if (last) {
					frm.set_intro(
						__("Legacy ticket #{0} is in step: {1} written back on {2}.", [
							s.ticket,
							last.columns,
							frappe.datetime.str_to_user(last.modified),
						]),
						"green"
					);
				} else {
					frm.set_intro(__("Legacy ticket #{0}: no change of dispatch to write back.", [s.ticket]), "blue");
				}
			});
	},
});
