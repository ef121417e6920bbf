// Copyright (c) 2026, legacy_dispatch contributors
// License: MIT. See license.txt

// A Legacy Dispatch Manager opening the Desk sees what needs attention at once (computed in
// the boot session: no scheduler needed). The same alerts are in the notifications.
$(document).on("app_ready", () => {
	for (const message of frappe.boot.legacy_dispatch_alerts || []) {
		frappe.show_alert({ message: frappe.utils.escape_html(message), indicator: "red" }, 20);
	}
});
