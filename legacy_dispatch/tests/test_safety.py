"""Secrets, data safety and honest logs: each defect of the code review, on a real site."""

from collections import Counter
from unittest.mock import patch

import frappe
import MySQLdb
from frappe.desk.query_report import run as run_report

from legacy_dispatch import api, sync
from legacy_dispatch.tests.utils import BridgeTestCase, bench, clean_site, own_jobs

SECRET = "Pw-" + frappe.generate_hash(length=16)
SETTINGS = "Legacy Dispatch Settings"
FIRED: list[str] = []


def queue_after_commit(doc, method=None):
	"""A site's hook that acts after commit (a webhook, an enqueued job…)."""
	frappe.db.after_commit.add(lambda: FIRED.append(doc.name))


def refuse_marked(doc, method=None):
	if "REFUSE" in (doc.subject or ""):
		frappe.throw("Subject not allowed on the board")


def settings(**values):
	doc = frappe.get_single(SETTINGS)
	doc.update(values)
	doc.save()
	frappe.db.commit()
	return doc


class TestSafety(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		for name in ("LD Safety Co", "LD Safety Renamed"):
			if frappe.db.exists("Customer", name):
				frappe.delete_doc("Customer", name, force=True)
		frappe.db.commit()

	def tearDown(self):
		super().tearDown()
		settings(source_profile="gestionclient", staff_id=3301, enabled=0, sync_period=15)

	# --- 1. the password is unprintable wherever it travels --------------------------------

	def assert_no_secret(self, *texts):
		for text in texts:
			self.assertNotIn(SECRET, str(text or ""))
		stored = frappe.get_all("Error Log", fields=["error"]) + frappe.get_all(
			"Sync Log", fields=["message", "traceback"]
		)
		self.assertFalse([row for row in stored if SECRET in str(row.values())])

	def failing(self, call) -> str:
		"""Run `call`, which must fail, and return what Frappe's Error Log would hold."""
		try:
			call()
		except Exception:
			return frappe.get_traceback(with_context=True)
		self.fail(f"{call} did not fail")

	def test_the_password_never_reaches_a_log_or_a_traceback(self):
		self.legacy.ticket(subject="A")
		settings(port=1, password=SECRET)  # stored encrypted; the legacy server is down
		self.assertEqual(frappe.get_single(SETTINGS).get_password("password"), SECRET)

		report = self.failing(lambda: run_report("Unmatched Customers"))
		self.assertIn("cannot connect to the server", report)
		preview = self.failing(api.preview)
		raw = self.failing(sync.plan_now)  # under every path: what a worker logs if nothing catches it
		self.assertIn("core/legacy.py", raw)  # the reader's own frames and variables are in it
		run = sync.run("API")
		self.assertEqual(run["status"], "Failed")
		sync.scheduled()  # enabled below: the scheduler's run fails the same way
		settings(enabled=1)
		sync.scheduled()
		doc = frappe.get_single(SETTINGS)
		connection = doc.test_connection()
		self.assertFalse(connection["ok"])
		departments = self.failing(doc.load_departments)
		# a wrong osTicket prefix and a custom query that does not run: clean failures too
		doc.update({"source_profile": "osTicket", "table_prefix": "bad prefix"})
		prefix = doc.test_connection()
		doc.update({"source_profile": "custom", "custom_query": "SELECT 1 AS id"})
		custom = self.failing(doc.load_departments)
		cli = bench("run")
		self.assertEqual(cli.returncode, 1, cli.stderr)
		self.assert_no_secret(
			report, preview, raw, run, connection, departments, prefix, custom, cli.stdout, cli.stderr
		)

	# --- 2. the stored password goes only to the stored server ------------------------------

	def test_the_stored_password_goes_only_to_the_stored_server(self):
		doc = frappe.get_single(SETTINGS)
		doc.password = "*" * 8  # what the form sends for a stored password
		doc.host = "127.0.0.2"
		with patch.object(MySQLdb, "connect", side_effect=AssertionError("connected")) as connect:
			out = doc.test_connection()
		connect.assert_not_called()
		self.assertFalse(out["ok"])
		self.assertIn("Type the password again", out["reason"])
		doc.port, doc.host = 3307, frappe.get_single(SETTINGS).host
		self.assertIn("Type the password again", doc.test_connection()["reason"])

	def test_the_buttons_need_write_permission_and_settings_cannot_be_shared(self):
		self.assertFalse([p for p in frappe.get_meta(SETTINGS).permissions if p.share])
		user = "ld-reader@example.com"
		if not frappe.db.exists("User", user):
			frappe.get_doc({"doctype": "User", "email": user, "first_name": "Reader"}).insert()
		frappe.share.add_docshare(SETTINGS, SETTINGS, user, read=1, flags={"ignore_share_permission": 1})
		frappe.db.commit()
		frappe.set_user(user)
		try:
			doc = frappe.get_doc(SETTINGS)
			self.assertTrue(doc.has_permission("read"))
			for button in (doc.test_connection, doc.load_departments):
				with self.assertRaises(frappe.PermissionError):
					button()
		finally:
			frappe.set_user("Administrator")
			frappe.share.remove(SETTINGS, SETTINGS, user)
			frappe.delete_doc("User", user, force=True)
			frappe.db.commit()

	# --- 6. a renamed Customer or Service Location keeps its jobs in the bridge's hands -----

	def test_renaming_a_customer_or_location_is_not_a_dispatcher_edit(self):
		customer = frappe.get_doc(
			{"doctype": "Customer", "customer_name": "LD Safety Co", "legacy_account_id": "900000501"}
		).insert()
		location = frappe.get_doc(
			{"doctype": "Service Location", "customer": customer.name, "city": "Laval"}
		).insert()
		self.legacy.account(900000501, city="Laval")
		t = self.legacy.ticket(account_id=900000501, subject="Avant")
		frappe.db.commit()
		try:
			self.assertEqual(sync.run()["created"], 1)
			frappe.rename_doc("Customer", customer.name, "LD Safety Renamed", force=True)
			new_location = frappe.rename_doc(
				"Service Location", location.name, location.name + "-x", force=True
			)
			frappe.db.commit()
			job = frappe.get_all("Dispatch Job", filters={"legacy_ticket_id": str(t)}, fields=["*"])[0]
			self.assertEqual((job.customer, job.service_location), ("LD Safety Renamed", new_location))
			self.assertEqual(sync.run()["unchanged"], 1)
			self.legacy.update(t, subject="Après")
			self.assertEqual(sync.run()["updated"], 1)
		finally:
			clean_site()
			frappe.delete_doc(
				"Service Location", frappe.db.get_value("Service Location", {"customer": "LD Safety Renamed"})
			)
			frappe.delete_doc("Customer", "LD Safety Renamed", force=True)
			frappe.db.commit()

	# --- 7. a failed run counts only what was committed -------------------------------------

	def test_a_failed_run_counts_only_committed_writes(self):
		for i in range(5):
			self.legacy.ticket(subject=f"Lot {i}")
		heartbeat = frappe.db.set_value
		beats = []

		def lost_connection(doctype, name, *args, **kwargs):
			if doctype == "Sync Log" and args and args[0] == "message":
				beats.append(name)
				if len(beats) == 2:
					raise frappe.db.InternalError("Lost connection to server during query")
			return heartbeat(doctype, name, *args, **kwargs)

		with patch.object(sync, "COMMIT_EVERY", 2), patch.object(frappe.db, "set_value", lost_connection):
			out = sync.run()
		self.assertEqual((out["status"], out["created"], out["not_done"]), ("Failed", 2, 3))
		self.assertEqual(len(own_jobs()), 2)
		log = frappe.get_doc("Sync Log", out["log"])
		self.assertEqual((log.created, log.not_done), (2, 3))
		self.assertEqual(Counter(r.action for r in log.outcomes), {"create": 2, "not_done": 3})

	# --- 8 and 9. a rolled-back write leaves no trace; the board refreshes as Frappe does ----

	def test_a_refused_batch_fires_nothing_for_rolled_back_writes(self):
		for i in range(6):
			self.legacy.ticket(subject="REFUSE" if i == 3 else f"Lot {i}")
		FIRED.clear()
		emitted = []
		here = "legacy_dispatch.tests.test_safety."
		hooks = {
			"Dispatch Job": {
				"after_insert": [here + "queue_after_commit"],
				"validate": [here + "refuse_marked"],
			}
		}
		with (
			patch.object(frappe, "get_doc_hooks", lambda: hooks),
			patch(
				"frappe.realtime.emit_via_redis",
				lambda event, message, room: emitted.append((event, message)),
			),
		):
			out = sync.run()
		self.assertEqual((out["created"], out["errors"]), (5, 1))
		created = sorted(own_jobs())
		self.assertEqual(sorted(FIRED), created)  # once each, none for the rolled-back copies
		listed = [
			m["name"] for event, m in emitted if event == "list_update" and m["doctype"] == "Dispatch Job"
		]
		self.assertEqual(sorted(listed), created)  # the List view's event names its document

	# --- 11. saving the settings works while legacy is down ---------------------------------

	def test_settings_save_while_legacy_is_down_and_the_query_is_checked_when_it_changes(self):
		self.legacy.ticket(subject="A")
		query = "SELECT id, subject, status, assign_to, due_date FROM ticket"
		settings(source_profile="custom", custom_query=query)
		frappe.db.set_single_value(SETTINGS, "port", 1)
		frappe.db.commit()
		settings(enabled=0)  # an outage: turning the sync off still works
		with self.assertRaises(frappe.ValidationError):
			settings(custom_query=query + " WHERE 1")
		frappe.db.rollback()
		out = sync.run()  # and at each run
		self.assertEqual(out["status"], "Failed")

	# --- 12. the schedule follows the period without a log line a minute -------------------

	def test_the_scheduled_job_follows_the_settings(self):
		self.assertNotIn("* * * * *", frappe.get_hooks("scheduler_events")["cron"])
		job = lambda: frappe.db.get_value(  # noqa: E731
			"Scheduled Job Type", {"method": sync.SCHEDULED_METHOD}, ["cron_format", "stopped"]
		)
		settings(enabled=0, sync_period=15)
		self.assertEqual(job(), ("*/15 * * * *", 1))
		for period, cron in ((15, "*/15 * * * *"), (45, "*/15 * * * *"), (60, "0 * * * *"), (7, "* * * * *")):
			settings(enabled=1, sync_period=period)
			self.assertEqual(job(), (cron, 0))
