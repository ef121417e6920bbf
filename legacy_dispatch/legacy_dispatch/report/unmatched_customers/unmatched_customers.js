// Copyright (c) 2026, legacy_dispatch contributors
// License: MIT. See license.txt

frappe.query_reports["Unmatched Customers"] = {
	filters: [],
	onload(report) {
		report.page.set_indicator(__("Set the Customer's Legacy Account ID to match it"), "blue");
	},
};
