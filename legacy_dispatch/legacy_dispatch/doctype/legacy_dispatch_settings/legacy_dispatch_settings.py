# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

import frappe
import pytz
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

from legacy_dispatch.core.legacy import LegacyError
from legacy_dispatch.core.mapping import is_field_department, job_type_for_name
from legacy_dispatch.core.sources import GESTIONCLIENT, profile_name, validate_custom_query
from legacy_dispatch.core.writeback import LegacyWriter
from legacy_dispatch.sync import apply_schedule, load_settings, open_legacy


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
		# checked when it changes (and at every run), so saving works while legacy is down
		if self.source_profile == "custom" and (
			self.has_value_changed("custom_query") or self.has_value_changed("source_profile")
		):
			self.check_custom_query()
		self.validate_writeback()
		seen = set()
		for row in self.departments:
			if row.dept_id in seen:
				frappe.throw(_("Department {0} appears twice in the department map.").format(row.dept_id))
			seen.add(row.dept_id)

	def validate_writeback(self):
		wanted = [self.writeback_schedule, self.writeback_technician]
		wanted += [self.writeback_completed, self.writeback_cancelled]
		if not any(wanted):
			return
		if profile_name(self.source_profile) != GESTIONCLIENT:
			frappe.throw(_("Write-back is available only for the gestionclient source: turn it off first."))
		if not self.writeback_user:
			frappe.throw(_("Write-back needs a user of its own: set the Write-back User."))

	def on_update(self):
		apply_schedule()

	def check_custom_query(self):
		"""A custom query must be one read-only SELECT returning the normalised columns."""
		try:
			validate_custom_query(load_settings(self)[0], self.custom_query)
		except LegacyError as e:
			frappe.throw(str(e), title=_("Custom query refused"))

	@frappe.whitelist()
	def test_connection(self) -> dict:
		"""Connect read-only with the values on the form: the server's version and how many
		open tickets the selection finds, or the exact reason it failed. With a write-back
		user, also check that it may run every statement of a write-back."""
		self.check_permission("write")
		try:
			source, config = open_legacy(self)
			with source:
				count = sum(1 for _ticket in source.open_tickets(config.staff_id))
				out = {"ok": True, "version": source.server_version(), "open_tickets": count}
		except LegacyError as e:
			return {"ok": False, "reason": str(e)}
		if self.writeback_user and profile_name(self.source_profile) == GESTIONCLIENT:
			try:
				with LegacyWriter(load_settings(self, writer=True)[0]) as writer:
					writer.check()
				out["writer"] = _("may write back the date, technician and status of tickets")
			except LegacyError as e:
				out.update(ok=False, reason=_("Write-back user: {0}").format(e))
		return out

	@frappe.whitelist()
	def load_departments(self) -> None:
		"""Fill the department map from the legacy `dept` table. Rows already in the map keep
		the operator's job type, duration and inclusion; new ones get a job type from their
		name and are left out when they are not field work (ToDo, Support…)."""
		self.check_permission("write")
		try:
			source, _config = open_legacy(self)
			with source:
				departments = source.departments()
		except LegacyError as e:
			frappe.throw(str(e), title=_("Legacy database unreachable"))
		rows = {cint(row.dept_id): row for row in self.departments}
		for dept_id, name in departments:
			if dept_id in rows:
				rows[dept_id].dept_name = name
			else:
				self.append(
					"departments",
					{
						"dept_id": dept_id,
						"dept_name": name,
						"job_type": job_type_for_name(name),
						"included": int(is_field_department(name)),
					},
				)
