# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, now_datetime

from legacy_dispatch.legacy_dispatch.doctype.sync_log.sync_log import SyncLog


class TestSyncLog(FrappeTestCase):
	def log(self, status, days_old):
		doc = frappe.get_doc(
			{"doctype": "Sync Log", "status": status, "trigger": "CLI", "started": now_datetime()}
		)
		doc.append("outcomes", {"legacy_ticket_id": "1", "action": "create", "reason": "new open ticket"})
		doc.insert()
		frappe.db.set_value(
			"Sync Log", doc.name, "modified", add_days(now_datetime(), -days_old), update_modified=False
		)
		return doc.name

	def test_old_logs_are_cleared_failures_kept_longer(self):
		logs = {
			"recent success": self.log("Success", 5),
			"old success": self.log("Success", 40),
			"old skipped": self.log("Skipped", 40),
			"old failure": self.log("Failed", 40),
			"very old failure": self.log("Partial", 200),
		}
		SyncLog.clear_old_logs(days=30)
		kept = {label for label, name in logs.items() if frappe.db.exists("Sync Log", name)}
		self.assertEqual(kept, {"recent success", "old failure"})
		rows = frappe.get_all(
			"Sync Log Ticket", filters={"parent": ("in", list(logs.values()))}, pluck="parent"
		)
		self.assertEqual(sorted(rows), sorted(logs[label] for label in kept))  # no orphaned rows
		frappe.db.rollback()
