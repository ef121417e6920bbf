# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

import frappe
import pytz
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint


class LegacyDispatchSettings(Document):
	def validate(self):
		if cint(self.staff_id) < 1:
			frappe.throw(_("Legacy Staff ID must be a positive number (the legacy staff.id)."))
		if cint(self.sync_period) < 1:
			frappe.throw(_("Sync Period must be at least 1 minute."))
		if not 0 < cint(self.port) < 65536:
			frappe.throw(_("Port must be between 1 and 65535."))
		if self.time_zone not in pytz.all_timezones_set:
			frappe.throw(
				_("Unknown time zone {0}. Use a name such as America/Toronto.").format(self.time_zone)
			)
		seen = set()
		for row in self.departments:
			if row.dept_id in seen:
				frappe.throw(_("Department {0} appears twice in the department map.").format(row.dept_id))
			seen.add(row.dept_id)
