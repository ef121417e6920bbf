frappe.listview_settings["Sync Log"] = {
	get_indicator(doc) {
		const colour = { Running: "blue", Success: "green", Partial: "orange", Failed: "red", Skipped: "gray" };
		return [__(doc.status), colour[doc.status], "status,=," + doc.status];
	},
};
