"""The Desk side: test connection, load departments, health and its alert, the CLI."""

import json
from unittest.mock import patch

import frappe
from frappe.utils import add_to_date, now_datetime

from legacy_dispatch import health, sync
from legacy_dispatch.tests.utils import (
	BridgeTestCase,
	bench,
	clean_site,
	ensure_target_doctypes,
	fresh_legacy,
)


def add_log(status: str, minutes_ago: float = 0, message: str = "") -> str:
	log = sync.new_log("Scheduler", None, status=status, message=message)
	log.started = add_to_date(now_datetime(), minutes=-minutes_ago)
	log.insert()
	return log.name


class TestDesk(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_target_doctypes()

	def setUp(self):
		clean_site()
		self.legacy = fresh_legacy()
		self.settings = frappe.get_single("Legacy Dispatch Settings")

	def tearDown(self):
		self.legacy.admin.close()
		frappe.db.rollback()

	# --- test connection -----------------------------------------------------------------

	def test_connection_ok_reports_version_and_selection(self):
		self.legacy.ticket()
		self.legacy.ticket()
		self.legacy.ticket(status="closed")
		r = self.settings.test_connection()
		self.assertTrue(r["ok"])
		self.assertIn("MariaDB", r["version"])
		self.assertEqual(r["open_tickets"], 2)

	def test_connection_failures_say_why(self):
		for change, reason in (
			({"password": "bad password"}, "access denied (wrong user or password) [1045]"),
			({"database": "no_such_db"}, "unknown database [1049]"),
			({"host": "127.0.0.1", "port": 1}, "cannot connect to the server"),
			({"host": "no-such-host.invalid"}, "[2005]"),
		):
			with self.subTest(change=change):
				doc = frappe.get_single("Legacy Dispatch Settings")
				if "host" in change:  # the stored password goes only to the stored server
					frappe.db.set_single_value("Legacy Dispatch Settings", change)
					doc = frappe.get_single("Legacy Dispatch Settings")
				doc.update(change)  # unsaved, as typed on the form
				r = doc.test_connection()
				self.assertFalse(r["ok"])
				self.assertIn(reason, r["reason"])
				self.assertNotIn("bad password", r["reason"])

	# --- departments ---------------------------------------------------------------------

	def test_load_departments_defaults_by_name_and_keeps_edits(self):
		for dept_id, name in (
			(1, "Installation"),
			(2, "Réparation"),
			(3, "Fibre"),
			(4, "ToDo"),
			(5, "Support Informatique"),
			(6, "Retrait"),
		):
			self.legacy.dept(dept_id, name)
		self.settings.set("departments", [])
		self.settings.load_departments()
		rows = {r.dept_id: (r.dept_name, r.job_type, r.included) for r in self.settings.departments}
		self.assertEqual(
			rows,
			{
				1: ("Installation", "Installation", 1),
				2: ("Réparation", "Réparation", 1),
				3: ("Fibre", "Autre", 1),
				4: ("ToDo", "Autre", 0),
				5: ("Support Informatique", "Autre", 0),
				6: ("Retrait", "Retrait", 1),
			},
		)
		self.settings.save()
		# the operator's edits survive a reload; a renamed and a new department come in
		fibre = next(r for r in self.settings.departments if r.dept_id == 3)
		fibre.job_type, fibre.duration_h = "Installation", 3
		todo = next(r for r in self.settings.departments if r.dept_id == 4)
		todo.included = 1
		self.settings.save()
		self.legacy.sql("UPDATE dept SET name = 'Fibre optique' WHERE id = 3")
		self.legacy.dept(7, "Conception")
		self.settings.load_departments()
		rows = {
			r.dept_id: (r.dept_name, r.job_type, r.duration_h, r.included) for r in self.settings.departments
		}
		self.assertEqual(rows[3], ("Fibre optique", "Installation", 3, 1))
		self.assertEqual(rows[4][3], 1)
		self.assertEqual(rows[7], ("Conception", "Autre", None, 0))
		self.assertEqual(len(rows), 7)

	def test_load_departments_unreachable(self):
		frappe.db.set_single_value("Legacy Dispatch Settings", "port", 1)
		self.settings = frappe.get_single("Legacy Dispatch Settings")
		with self.assertRaisesRegex(frappe.ValidationError, "cannot connect"):
			self.settings.load_departments()

	# --- health --------------------------------------------------------------------------

	def enable(self, period=15):
		frappe.db.set_single_value("Legacy Dispatch Settings", {"enabled": 1, "sync_period": period})
		frappe.db.set_single_value("System Settings", "enable_scheduler", 1)

	def test_healthy(self):
		self.enable()
		add_log("Success", 5)
		with patch.object(health, "is_dormant", return_value=False):
			state = health.health()
		self.assertEqual(state["warnings"], [])
		self.assertEqual(state["last_success"].status, "Success")

	def test_scheduler_disabled(self):
		self.enable()
		add_log("Success", 1)
		frappe.db.set_single_value("System Settings", "enable_scheduler", 0)
		self.assertIn(
			"The scheduler is disabled on this site: no automatic run will happen.",
			health.health()["warnings"],
		)

	def test_scheduler_paused(self):
		self.enable()
		with patch.dict(frappe.local.conf, {"pause_scheduler": 1}):
			warnings = health.health()["warnings"]
		self.assertTrue(any("scheduler is paused" in w for w in warnings), warnings)

	def test_dormant_site(self):
		self.enable()
		frappe.db.delete("Activity Log")  # nobody has used the site: Frappe treats it as dormant
		self.assertTrue(any("dormant" in w for w in health.health()["warnings"]))

	def test_last_success_older_than_three_periods(self):
		self.enable(period=10)
		add_log("Success", 29)
		self.assertFalse(any("three sync periods" in w for w in health.health()["warnings"]))
		clean_site()
		add_log("Success", 31)
		add_log("Skipped", 1)
		self.assertIn(
			"No successful run for more than three sync periods (30 minutes).", health.health()["warnings"]
		)

	def test_failed_runs_warn_and_alert_system_managers_once(self):
		frappe.db.set_single_value("Legacy Dispatch Settings", "alert_after_failures", 3)
		add_log("Success", 60)
		frappe.db.delete("Notification Log", {"document_type": "Sync Log"})
		frappe.db.set_single_value("Legacy Dispatch Settings", "port", 1)
		for i in range(4):
			out = sync.run()
			self.assertEqual(out["status"], "Failed")
			alerts = frappe.get_all(
				"Notification Log", filters={"document_type": "Sync Log"}, fields=["for_user", "subject"]
			)
			self.assertEqual(len(alerts) > 0, i >= 2, f"after {i + 1} failures")
		self.assertIn("Administrator", {a.for_user for a in alerts})
		self.assertEqual({a.subject for a in alerts}, {"Legacy sync: the last 3 runs failed"})
		self.assertEqual(len(alerts), len({a.for_user for a in alerts}))  # once each, not at the 4th failure
		state = health.health()
		self.assertEqual(state["consecutive_failures"], 4)
		self.assertTrue(state["warnings"][-1].startswith("The last 4 run(s) failed: legacy database"))

	# --- unmatched customers report ---------------------------------------------------

	def test_unmatched_customers_report(self):
		from legacy_dispatch.legacy_dispatch.report.unmatched_customers.unmatched_customers import execute

		for name, city in (("LD Tremblay, Marie", "Laval"), ("LD Marie Tremblay-Roy", "Mirabel")):
			if not frappe.db.exists("Customer", name):
				frappe.get_doc({"doctype": "Customer", "customer_name": name}).insert()
				frappe.get_doc({"doctype": "Service Location", "customer": name, "city": city}).insert()
		self.legacy.account(
			8001, first_name="LD Marie", last_name="Tremblay", address1="3 rue du Lac", city="LAVAL"
		)
		self.legacy.account(8002, company="Zzyzx Quarry", city="Laval")
		self.legacy.account(8003)  # nothing in legacy but its id
		for account in (8001, 8001, 8002, 8003, 0):
			self.legacy.ticket(account_id=account)
		columns, rows = execute()
		self.assertEqual(
			[c["fieldname"] for c in columns][:4], ["account_id", "account_name", "open_tickets", "todo"]
		)
		self.assertEqual(
			[
				(
					r["account_id"],
					r["account_name"],
					r["address"],
					r["city"],
					r["open_tickets"],
					r["likely_customer"],
				)
				for r in rows
			],
			[
				("8001", "LD Marie Tremblay", "3 rue du Lac", "LAVAL", 2, "LD Tremblay, Marie"),
				("8002", "Zzyzx Quarry", None, "Laval", 1, None),
				("8003", "", None, None, 1, None),
			],
		)
		self.assertEqual(rows[0]["score"], 1.25)  # every word, and a location in the same city
		self.assertIn("set its Legacy Account ID to 8001", rows[0]["todo"])
		nameless = rows[2]
		self.assertIn(nameless["tickets"], nameless["todo"])  # what to do, by its tickets
		self.assertIn("No name or address in legacy", nameless["todo"])

	# --- CLI -----------------------------------------------------------------------------

	def test_cli_preview_run_status(self):
		self.legacy.ticket(subject="Panne CLI")
		frappe.db.commit()
		preview = bench("preview")
		self.assertEqual(preview.returncode, 0, preview.stderr)
		self.assertIn("create    new open ticket", preview.stdout)
		self.assertEqual(json.loads(preview.stdout.splitlines()[-1])["created"], 1)
		self.assertEqual(frappe.db.count("Sync Log", {"name": ("not in", self.site_logs or [""])}), 0)

		run = bench("run")
		self.assertEqual(run.returncode, 0, run.stderr)
		self.assertEqual(json.loads(run.stdout)["created"], 1)
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value("Sync Log", {}, "trigger"), "CLI")

		status = bench("status")
		self.assertEqual(json.loads(status.stdout)["last_run"]["status"], "Success")

		frappe.db.set_single_value("Legacy Dispatch Settings", "port", 1)
		frappe.db.commit()
		failed = bench("run")
		self.assertEqual(failed.returncode, 1)
		self.assertEqual(json.loads(failed.stdout)["status"], "Failed")
		self.assertEqual(bench("status").returncode, 1)
		self.assertEqual(bench("preview").returncode, 1)
