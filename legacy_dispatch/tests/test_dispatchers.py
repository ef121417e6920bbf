"""Dispatchers and ops in charge: who owns a job, hand-back, update from legacy now, a deleted
job that stays deleted, why the bridge cancelled a job, roles, and alerts at Desk load."""

import frappe
from frappe.utils import add_to_date, get_time, now_datetime

from legacy_dispatch import api, health, jobs, sync
from legacy_dispatch.tests.utils import BridgeTestCase, technician

MANAGER = "ld-manager@example.com"
DISPATCHER = "ld-dispatcher@example.com"


def job(ticket_id):
	return frappe.get_doc("Dispatch Job", {"legacy_ticket_id": str(ticket_id)})


def user(email: str, *roles: str) -> str:
	if not frappe.db.exists("User", email):
		frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": email.split("@")[0], "send_welcome_email": 0}
		).insert(ignore_permissions=True)
	doc = frappe.get_doc("User", email)
	doc.add_roles(*roles)
	return email


class TestDispatchers(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.tech = technician()
		# dispatchers: a role that may read and change Dispatch Jobs, nothing of the bridge
		if not frappe.db.exists("Role", "LD Dispatcher"):
			frappe.get_doc({"doctype": "Role", "role_name": "LD Dispatcher", "desk_access": 1}).insert()
		cls.had_custom_perms = frappe.db.exists("Custom DocPerm", {"parent": "Dispatch Job"})
		if not frappe.db.exists("Custom DocPerm", {"parent": "Dispatch Job", "role": "LD Dispatcher"}):
			frappe.permissions.add_permission("Dispatch Job", "LD Dispatcher")
		for ptype in ("write", "delete"):
			frappe.permissions.update_permission_property("Dispatch Job", "LD Dispatcher", 0, ptype, 1)
		user(MANAGER, "Legacy Dispatch Manager")
		user(DISPATCHER, "LD Dispatcher")
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		for email in (MANAGER, DISPATCHER):
			frappe.db.delete("Notification Log", {"for_user": email})
			frappe.delete_doc("User", email, force=True, ignore_permissions=True)
		if cls.had_custom_perms:
			frappe.db.delete("Custom DocPerm", {"parent": "Dispatch Job", "role": "LD Dispatcher"})
		else:  # add_permission copied the doctype's own permissions: back to those
			frappe.permissions.reset_perms("Dispatch Job")
		frappe.delete_doc("Role", "LD Dispatcher", force=True, ignore_permissions=True)
		frappe.db.commit()
		super().tearDownClass()

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.delete(
			"Notification Log",
			{"for_user": ("in", (MANAGER, "Administrator")), "subject": ("like", "Legacy sync:%")},
		)
		frappe.db.commit()
		super().tearDown()

	def imported(self, **cols) -> int:
		t = self.legacy.ticket(**cols)
		sync.run("CLI")
		return t

	def test_the_form_says_who_owns_the_job_and_links_the_ticket(self):
		frappe.db.set_single_value(
			"Legacy Dispatch Settings", "ticket_url", "https://helpdesk.example/ticket.php?id={id}"
		)
		t = self.imported()
		state = api.legacy_state(job(t).name)
		self.assertEqual(
			(state["in_step"], state["url"]), (True, f"https://helpdesk.example/ticket.php?id={t}")
		)
		self.assertEqual(job(t).legacy_in_step, 1)

		doc = job(t)
		doc.subject = "Rappeler avant de passer"
		doc.save()
		state = api.legacy_state(doc.name)
		self.assertFalse(state["in_step"])
		self.assertEqual(state["reason"], "changed by a dispatcher: subject")
		self.assertIsNotNone(state["since"])
		self.assertTrue(state["can_hand_back"])
		owned = frappe.get_all("Dispatch Job", filters={"legacy_in_step": 0, "legacy_ticket_id": str(t)})
		self.assertEqual(len(owned), 1)  # the list view filters on it

		doc.assigned_tech, doc.status = self.tech, "assigned"
		doc.save()
		state = api.legacy_state(doc.name)
		self.assertEqual((state["reason"], state["can_hand_back"]), ("assigned to LD Tech", False))
		frappe.db.set_single_value("Legacy Dispatch Settings", "ticket_url", "")
		self.assertIsNone(api.legacy_state(doc.name)["url"])
		# jobs from before the flag get it at migrate
		frappe.db.set_value("Dispatch Job", doc.name, "legacy_in_step", 1, update_modified=False)
		jobs.backfill_in_step()
		self.assertEqual(frappe.db.get_value("Dispatch Job", doc.name, "legacy_in_step"), 0)

	def test_hand_back_then_legacy_changes_flow_again(self):
		t = self.imported(due_time="am")
		doc = job(t)
		doc.start_time = "09:45:00"
		doc.save()
		frappe.db.commit()
		self.legacy.update(t, due_time="pm")
		sync.run("CLI")
		self.assertEqual(str(get_time(job(t).start_time)), "09:45:00")  # owned: left alone

		frappe.set_user(DISPATCHER)
		state = api.hand_back(doc.name)
		frappe.set_user("Administrator")
		self.assertTrue(state["in_step"])
		log = frappe.get_all("Sync Log", filters={"trigger": "Job Form"}, fields=["name", "user", "status"])[
			0
		]
		self.assertEqual((log.user, log.status), (DISPATCHER, "Success"))
		row = frappe.get_all(
			"Sync Log Ticket", filters={"parent": log.name}, fields=["action", "dispatch_job"]
		)[0]
		self.assertEqual((row.action, row.dispatch_job), ("hand_back", doc.name))
		out = sync.run("CLI")
		self.assertEqual(out["updated"], 1)
		self.assertEqual(str(get_time(job(t).start_time)), "13:00:00")

		assigned = job(t)
		assigned.assigned_tech, assigned.status = self.tech, "assigned"
		assigned.save()
		self.assertRaises(frappe.ValidationError, api.hand_back, assigned.name)

	def test_update_from_legacy_now(self):
		t = self.imported(due_time="am", priority=1)
		self.legacy.update(t, due_time="pm", priority=3)
		frappe.set_user(DISPATCHER)
		out = api.update_now(job(t).name)
		frappe.set_user("Administrator")
		self.assertEqual(out["action"], "update")
		self.assertEqual(out["changes"], {"start_time": "13:00:00", "priority": "high"})
		self.assertEqual((str(get_time(job(t).start_time)), job(t).priority), ("13:00:00", "high"))
		self.assertEqual(
			frappe.db.get_value("Sync Log", out["log"], ["trigger", "user"]), ("Job Form", DISPATCHER)
		)
		# a job dispatch owns is left alone, and says so
		doc = job(t)
		doc.subject = "Autre sujet"
		doc.save()
		out = api.update_now(doc.name)
		self.assertEqual(out["action"], "skip")
		self.assertIn("changed by a dispatcher: subject", out["reason"])
		# closed in legacy: cancelled now, once handed back
		api.hand_back(doc.name)
		self.legacy.update(t, status="closed")
		self.assertEqual(api.update_now(doc.name)["action"], "cancel")
		self.assertEqual(job(t).status, "cancelled")

	def test_a_deleted_job_stays_deleted_until_ops_lift_it(self):
		t = self.imported(subject="Bruit")
		frappe.set_user(DISPATCHER)
		frappe.delete_doc("Dispatch Job", job(t).name)
		frappe.set_user("Administrator")
		ignored = frappe.get_doc("Legacy Ignored Ticket", str(t))
		self.assertEqual((ignored.deleted_by, ignored.subject), (DISPATCHER, "Bruit"))
		plan = api.preview()
		[d] = [x for x in plan["tickets_detail"] if x["legacy_ticket_id"] == str(t)]
		self.assertEqual(d["action"], "ignore")
		self.assertIn(f"job deleted by {DISPATCHER}", d["reason"])
		out = sync.run("CLI")
		self.assertEqual((out["ignored"], out["created"]), (1, 0))
		self.assertFalse(frappe.db.exists("Dispatch Job", {"legacy_ticket_id": str(t)}))
		frappe.delete_doc("Legacy Ignored Ticket", str(t))  # ops lift it
		self.assertEqual(sync.run("CLI")["created"], 1)
		self.assertEqual(frappe.db.count("Dispatch Job", {"legacy_ticket_id": str(t)}), 1)

	def test_the_bridge_says_why_it_cancelled_a_job(self):
		t = self.imported()
		self.legacy.update(t, status="closed")
		sync.run("CLI")
		doc = job(t)
		self.assertEqual(doc.status, "cancelled")
		comments = frappe.get_all(
			"Comment",
			filters={"reference_doctype": "Dispatch Job", "reference_name": doc.name},
			pluck="content",
		)
		self.assertEqual(len(comments), 1)
		self.assertIn("Cancelled by the legacy bridge on", comments[0])
		self.assertIn("ticket closed in legacy", comments[0])

	def test_roles(self):
		t = self.imported()
		frappe.set_user(MANAGER)
		self.assertIn("tickets_detail", api.preview())
		self.assertIn("warnings", api.health())
		self.assertTrue(frappe.get_single("Legacy Dispatch Settings").test_connection()["ok"])
		self.assertTrue(frappe.has_permission("Sync Log", "read"))
		self.assertTrue(frappe.has_permission("Legacy Ignored Ticket", "delete"))
		self.assertIsInstance(api.card_problems()["value"], int)
		frappe.set_user(DISPATCHER)
		self.assertEqual(api.legacy_state(job(t).name)["ticket"], str(t))
		frappe.flags.in_test = False  # frappe.only_for lets everything through in tests
		try:
			for call in (api.preview, api.health, api.run, api.enqueue_run, api.card_problems):
				self.assertRaises(frappe.PermissionError, call)
		finally:
			frappe.flags.in_test = True
		self.assertFalse(frappe.has_permission("Legacy Dispatch Settings", "read"))
		self.assertFalse(frappe.has_permission("Sync Log", "read"))
		self.assertNotIn("password", api.legacy_state(job(t).name))

	def test_alerts_reach_managers_at_desk_load(self):
		settings = frappe.get_single("Legacy Dispatch Settings")
		settings.update({"enabled": 1, "sync_period": 1, "alert_after_failures": 3})
		settings.save()
		for status in ("Partial", "Partial", "Partial"):  # the last 3 runs, 5 minutes ago
			log = sync.new_log("Scheduler", None, status=status)
			log.started = add_to_date(now_datetime(), minutes=-5)
			log.insert(ignore_permissions=True)
		frappe.db.commit()
		frappe.set_user(MANAGER)
		boot = frappe._dict()
		health.desk_alerts(boot)
		self.assertEqual(len(boot.legacy_dispatch_alerts), 2)  # stale and all Partial
		health.desk_alerts(frappe._dict())  # the next Desk load: no second notification
		frappe.set_user("Administrator")
		notes = frappe.get_all("Notification Log", filters={"for_user": MANAGER}, pluck="subject")
		self.assertEqual(len(notes), 2)
		self.assertTrue(any("three sync periods" in n for n in notes))
		frappe.set_user(DISPATCHER)
		boot = frappe._dict()
		health.desk_alerts(boot)
		self.assertNotIn("legacy_dispatch_alerts", boot)
		frappe.set_user("Administrator")
