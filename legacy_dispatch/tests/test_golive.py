"""Going live over the old Node service (issue: install over its field and jobs, adopt them).

Each test turns the site back into the one the Node service left: its plain
`legacy_ticket_id` Custom Field (Data or Int, not unique, no module), no
`legacy_synced`, and its jobs; then installs the app's part the way `install-app` does
(before_install, then the fixtures), and puts the app's fields back at the end.
"""

from datetime import date

import frappe
from frappe.utils.fixtures import sync_fixtures

from legacy_dispatch import api, health, sync
from legacy_dispatch.install import before_install
from legacy_dispatch.tests.utils import OWN_SUBJECT, BridgeTestCase, bench, clean_site, technician

EVENING = 1795494600  # 2026-11-23 23:30 in Toronto


def drop_column(column: str):
	frappe.db.sql_ddl(f"ALTER TABLE `tabDispatch Job` DROP COLUMN {column}")
	frappe.db.commit()  # PostgreSQL: DDL is transactional, and its lock would block other workers
	frappe.clear_cache(doctype="Dispatch Job")


def node_site(fieldtype: str):
	"""The fields as the Node service's setup script left them, before the app."""
	for column in ("legacy_ticket_id", "legacy_synced"):
		frappe.delete_doc("Custom Field", f"Dispatch Job-{column}", ignore_permissions=True, force=True)
		drop_column(column)
	frappe.get_doc(
		{
			"doctype": "Custom Field",
			"dt": "Dispatch Job",
			"fieldname": "legacy_ticket_id",
			"label": "Legacy Ticket ID",
			"fieldtype": fieldtype,
			"insert_after": "ticket_id",
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	frappe.clear_cache(doctype="Dispatch Job")


def install():
	"""What `bench install-app` does for these fields."""
	before_install()
	sync_fixtures("legacy_dispatch")
	frappe.db.commit()
	frappe.clear_cache(doctype="Dispatch Job")


def node_job(ticket, **values) -> str:
	"""A job as the Node service made it (lookup by legacy_ticket_id, then create)."""
	doc = frappe.get_doc(
		{
			"doctype": "Dispatch Job",
			"ticket_id": f"LEG-{ticket}",
			"legacy_ticket_id": ticket,
			"subject": "Copié par le service Node",
			"status": "open",
			**values,
		}
	)
	doc.dont_update_if_missing = ["start_time"]
	doc.insert(ignore_permissions=True)
	return doc.name


def job(name) -> frappe._dict:
	return frappe.get_all("Dispatch Job", filters={"name": name}, fields=["*"])[0]


def jobs_of(ticket) -> list[str]:
	return frappe.get_all(
		"Dispatch Job",
		or_filters={"legacy_ticket_id": str(ticket), "ticket_id": f"LEG-{ticket}"},
		pluck="name",
	)


class TestGoLive(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.tech = technician()

	def tearDown(self):
		super().tearDown()
		clean_site()
		if sync.schema_problems():  # put the app's fields back as an install leaves them
			install()

	def prepare(self, fieldtype: str) -> dict:
		"""Legacy tickets and the Node service's jobs for them, on a site without the app's fields."""
		t = self.legacy.ticket
		tickets = {
			"open": t(subject="Installation fibre", due_date=EVENING),
			"assigned": t(subject="Réparation"),
			"closed": t(subject="Ancien", status="closed"),
			"duplicated": t(subject="En double"),
			"leg_only": t(subject="Sans identifiant"),
			"closing": t(subject="Se ferme"),
		}
		node_site(fieldtype)
		self.legacy.update(tickets["closing"], status="closed")
		jobs = {
			"open": node_job(tickets["open"]),
			"assigned": node_job(tickets["assigned"], assigned_tech=self.tech, status="assigned"),
			"closed": node_job(tickets["closed"], status="completed"),
			"duplicated": node_job(tickets["duplicated"]),
			"duplicate": node_job(tickets["duplicated"]),
			"leg_only": node_job(tickets["leg_only"], legacy_ticket_id=None),
			"closing": node_job(tickets["closing"]),
			"ordinary": frappe.get_doc(
				{"doctype": "Dispatch Job", "subject": OWN_SUBJECT + "tournée"}
			).insert(ignore_permissions=True).name,
		}  # fmt: skip
		frappe.db.commit()
		return tickets, jobs

	def test_install_over_the_node_field_then_adopt_its_jobs(self):
		for fieldtype in ("Data", "Int"):
			with self.subTest(fieldtype=fieldtype):
				self.install_and_adopt(fieldtype)
			self.tearDown()
			self.setUp()

	def install_and_adopt(self, fieldtype: str):
		tickets, jobs = self.prepare(fieldtype)

		# install stops, naming the duplicated ticket and its jobs, and changes nothing
		with self.assertRaises(frappe.ValidationError) as stopped:
			install()
		message = str(stopped.exception)
		self.assertIn(f"Legacy ticket {tickets['duplicated']}: ", message)
		self.assertIn(f"{jobs['duplicated']} (open, no technician)", message)
		self.assertIn(jobs["duplicate"], message)
		self.assertNotIn(str(tickets["open"]), message)
		self.assertEqual(
			frappe.db.get_value("Custom Field", "Dispatch Job-legacy_ticket_id", "fieldtype"), fieldtype
		)
		self.assertFalse(frappe.db.has_column("Dispatch Job", "legacy_synced"))

		# resolved as the message says, the same install goes through, every value kept
		frappe.delete_doc("Dispatch Job", jobs["duplicate"], ignore_permissions=True)
		frappe.db.commit()
		install()
		self.assertEqual(sync.schema_problems(), [])
		stored = {k: job(name).legacy_ticket_id for k, name in jobs.items() if k != "duplicate"}
		expected = {k: str(tickets[k]) for k in tickets} | {"leg_only": None, "ordinary": None}
		self.assertEqual(stored, expected)

		# the preview shows what will be taken over before anything runs
		plan = {t["legacy_ticket_id"]: t for t in api.preview()["tickets_detail"]}
		self.assertEqual(plan[str(tickets["open"])]["action"], "adopt")
		self.assertEqual(plan[str(tickets["assigned"])]["action"], "skip")

		out = sync.run()
		self.assertEqual(
			(out["status"], out["adopted"], out["created"], out["skipped"]), ("Success", 4, 0, 1), out
		)
		rows = {r.legacy_ticket_id: r for r in frappe.get_doc("Sync Log", out["log"]).outcomes}
		self.assertEqual(
			rows[str(tickets["open"])].reason,
			"taken over: legacy changed subject, note, job_type, scheduled_date, duration_h",
		)
		self.assertEqual(rows[str(tickets["closing"])].reason, "taken over: ticket closed in legacy")
		self.assertEqual(rows[str(tickets["assigned"])].reason, "left alone: assigned to LD Tech")
		self.assertEqual(job(jobs["open"]).scheduled_date, date(2026, 11, 23))
		self.assertEqual(job(jobs["closing"]).status, "cancelled")
		self.assertEqual(job(jobs["leg_only"]).legacy_ticket_id, str(tickets["leg_only"]))
		self.assertEqual(
			(job(jobs["assigned"]).subject, job(jobs["assigned"]).legacy_synced),
			("Copié par le service Node", None),
		)
		self.assertEqual(job(jobs["closed"]).status, "completed")
		for ticket in tickets.values():  # one ticket, one job
			self.assertEqual(len(jobs_of(ticket)), 1, ticket)

		# a second run writes nothing
		modified = {j.name: j.modified for j in frappe.get_all("Dispatch Job", fields=["name", "modified"])}
		again = sync.run()
		self.assertEqual(
			(again["adopted"], again["updated"], again["created"], again["cancelled"]), (0, 0, 0, 0)
		)
		self.assertEqual(
			modified,
			{j.name: j.modified for j in frappe.get_all("Dispatch Job", fields=["name", "modified"])},
		)

		# from now on the ordinary rules: legacy changes flow in, closure cancels...
		self.legacy.update(tickets["open"], due_date=EVENING + 86400)
		self.legacy.update(tickets["duplicated"], status="closed")
		out = sync.run()
		self.assertEqual((out["updated"], out["cancelled"]), (1, 1))
		self.assertEqual(job(jobs["open"]).scheduled_date, date(2026, 11, 24))
		self.assertEqual(job(jobs["duplicated"]).status, "cancelled")

		# ...and a dispatcher's edit wins over a later legacy change
		edited = frappe.get_doc("Dispatch Job", jobs["open"])
		edited.priority = "high"
		edited.save()
		frappe.db.commit()
		self.legacy.update(tickets["open"], subject="Changé en legacy")
		out = sync.run()
		self.assertEqual(out["updated"], 0)
		self.assertEqual(job(jobs["open"]).subject, "Installation fibre")

	def test_no_run_without_the_unique_index_or_the_record_column(self):
		self.legacy.ticket(subject="A")
		for break_it in (self.drop_unique_index, lambda: drop_column("legacy_synced")):
			break_it()
			self.assertTrue(sync.schema_problems())
			with self.assertRaises(sync.NotReady) as refused:
				api.preview()
			self.assertIn("bench --site", str(refused.exception))
			cli = bench("preview")
			self.assertEqual((cli.returncode, cli.stdout), (1, ""), cli.stderr)
			self.assertIn(
				"has no unique index" if "unique" in str(refused.exception) else "legacy_synced", cli.stderr
			)
			out = sync.run("Scheduler")
			self.assertEqual((out["status"], out["created"]), ("Failed", 0))
			self.assertIn("migrate", out["message"])
			self.assertTrue(any("Dispatch Job.legacy_" in w for w in health.health()["warnings"]))
			install()  # the repair the message gives: the fixtures put the field back
			self.assertEqual(sync.schema_problems(), [])
		self.assertEqual(sync.run()["created"], 1)

	def drop_unique_index(self):
		"""The field edited by hand: Unique unticked (Frappe drops the index)."""
		frappe.db.set_value("Custom Field", "Dispatch Job-legacy_ticket_id", "unique", 0)
		frappe.clear_cache(doctype="Dispatch Job")
		frappe.db.updatedb("Dispatch Job")
		frappe.db.commit()
