# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from legacy_dispatch.sync import load_settings


class TestLegacyDispatchSettings(FrappeTestCase):
	def settings(self, **values):
		doc = frappe.get_single("Legacy Dispatch Settings")
		doc.update(values)
		return doc

	def test_settings_that_make_no_sense_are_refused(self):
		for values, message in (
			({"staff_id": 0}, "Legacy Staff ID"),
			({"staff_id": "tech"}, "Legacy Staff ID"),
			({"sync_period": 0}, "Sync Period"),
			({"port": 70000}, "Port"),
			({"time_zone": "Montreal/Quebec"}, "Unknown time zone"),
		):
			with self.subTest(values=values), self.assertRaisesRegex(frappe.ValidationError, message):
				self.settings(**values).save()

	def test_a_department_listed_twice_is_refused(self):
		doc = self.settings()
		doc.set("departments", [{"dept_id": 4, "job_type": "Autre"}, {"dept_id": 4, "job_type": "Retrait"}])
		with self.assertRaisesRegex(frappe.ValidationError, "appears twice"):
			doc.save()

	def test_settings_become_the_core_config(self):
		doc = self.settings(
			staff_id=77, time_zone="America/Montreal", duration_retrait=0.5, password="s3cret"
		)
		doc.set("departments", [{"dept_id": 4, "dept_name": "ToDo", "job_type": "Autre", "included": 0}])
		doc.save()
		conn, config = load_settings()
		self.assertEqual(
			(config.staff_id, config.time_zone, config.durations["Retrait"]), (77, "America/Montreal", 0.5)
		)
		self.assertFalse(config.departments[4].included)
		self.assertEqual(conn.password, "s3cret")
		# the document itself only holds asterisks
		stored = frappe.get_single("Legacy Dispatch Settings")
		self.assertNotIn("s3cret", frappe.as_json(stored.as_dict()))
		frappe.db.rollback()
