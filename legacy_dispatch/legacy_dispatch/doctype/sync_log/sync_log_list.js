frappe.listview_settings["Sync Log"] = {
	hide_name_column: true, // the title says when the run started and how it ended
	get_indicator(doc) {
		const colour = { Running: "blue", Success: "green", Partial: "orange", Failed: "red", Skipped: "gray" };
		return [__(doc.status), colour[doc.status], "status,=," + doc.status];
	},
};
