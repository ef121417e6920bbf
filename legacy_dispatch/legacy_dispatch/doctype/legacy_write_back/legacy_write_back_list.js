// Copyright (c) 2026, legacy_dispatch contributors
// License: MIT. See license.txt

frappe.listview_settings["Legacy Write Back"] = {
	get_indicator(doc) {
		const color = { Pending: "orange", Sent: "green", Conflict: "red", Refused: "red", Superseded: "gray" };
		return [__(doc.status), color[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
