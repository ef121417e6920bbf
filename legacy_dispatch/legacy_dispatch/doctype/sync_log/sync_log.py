# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

import frappe
from frappe.model.document import Document
from frappe.query_builder import Interval
from frappe.query_builder.functions import Now


class SyncLog(Document):
	@staticmethod
	def clear_old_logs(days=30):
		"""Called by Frappe's log clearing (Log Settings). Runs that did not fully succeed
		are kept four times longer, so a failure is still there when someone looks."""
		log = frappe.qb.DocType("Sync Log")
		old = (log.modified < (Now() - Interval(days=days))) & log.status.isin(("Success", "Skipped"))
		very_old = (log.modified < (Now() - Interval(days=4 * days))) & (log.status != "Running")
		names = frappe.qb.from_(log).select(log.name).where(old | very_old).run(pluck=True)
		for start in range(0, len(names), 1000):
			chunk = names[start : start + 1000]
			frappe.db.delete("Sync Log Ticket", {"parent": ("in", chunk), "parenttype": "Sync Log"})
			frappe.db.delete("Sync Log", {"name": ("in", chunk)})
