# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

import frappe
from frappe.model.document import Document
from frappe.query_builder import Interval
from frappe.query_builder.functions import Now


class LegacyWriteBack(Document):
	"""One change to write back to a legacy ticket (the outbox), then its outcome (the log)."""

	@staticmethod
	def clear_old_logs(days=30):
		"""Called by Frappe's log clearing: outcomes go after `days`; a pending change is never
		cleared, whatever its age."""
		wb = frappe.qb.DocType("Legacy Write Back")
		frappe.qb.from_(wb).delete().where(
			(wb.modified < (Now() - Interval(days=days))) & (wb.status != "Pending")
		).run()
