"""End to end on a real site: a legacy MariaDB seeded by the test, the ORM on the other side."""

import gc
import subprocess
import sys
import time
from datetime import date
from unittest.mock import patch

import frappe
from frappe.model.base_document import BaseDocument
from frappe.utils import add_to_date, get_time, now_datetime

from legacy_dispatch import api, sync
from legacy_dispatch.core import planner
from legacy_dispatch.core.legacy import LegacyDB
from legacy_dispatch.tests.utils import (
	OWN_SUBJECT,
	OWN_TICKETS,
	BridgeTestCase,
	clean_site,
	ensure_target_doctypes,
	fresh_legacy,
	own_jobs,
	technician,
)

# 2026-11-23 23:30 in Toronto: already the 24th in UTC
EVENING = 1795494600


def job(ticket_id) -> frappe._dict:
	return frappe.get_all(
		"Dispatch Job", filters={"legacy_ticket_id": str(ticket_id)}, fields=["*"], limit=1
	)[0]


def count_queries(fn) -> tuple[int, int]:
	"""(site queries, legacy queries) sent while fn runs."""
	with (
		patch.object(frappe.db, "sql", wraps=frappe.db.sql) as site,
		patch.object(LegacyDB, "execute", autospec=True, side_effect=LegacyDB.execute) as legacy,
	):
		fn()
	return site.call_count, legacy.call_count


def jobs_looked_up(get_invalid_links) -> list[str]:
	"""The tickets of the jobs whose links Frappe looked up, one by one (a mock of
	BaseDocument.get_invalid_links)."""
	return [
		c.args[0].legacy_ticket_id
		for c in get_invalid_links.call_args_list
		if c.args[0].doctype == "Dispatch Job"
	]


class TestLegacySync(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_target_doctypes()
		for customer, account in (("LD Marie Tremblay", "1001"), ("LD Luc Gagnon", "1002")):
			if not frappe.db.exists("Customer", customer):
				frappe.get_doc(
					{"doctype": "Customer", "customer_name": customer, "legacy_account_id": account}
				).insert()
		if not frappe.db.exists("Service Location", {"customer": "LD Marie Tremblay"}):
			frappe.get_doc(
				{"doctype": "Service Location", "customer": "LD Marie Tremblay", "city": "Saint-Jérôme",
				 "address": "12 rue Principale", "latitude": 45.7804, "longitude": -74.0036}
			).insert()  # fmt: skip
		cls.tech = technician()
		frappe.db.commit()

	def setUp(self):
		clean_site()
		self.legacy = fresh_legacy()
		self.legacy.account(1001, address1="12 rue Principale", city="SAINT-JEROME")
		self.legacy.account(1002, address1="450 boul. Labelle", city="Blainville")
		self.legacy.dept(1, "Installation")
		self.legacy.dept(2, "Réparation")

	def tearDown(self):
		self.legacy.admin.close()

	def seed(self):
		t = self.legacy.ticket
		return [
			t(
				account_id=1001,
				dept_id=1,
				subject="Installation fibre",
				due_date=EVENING,
				due_time="09:30",
				priority=1,
			),
			t(
				account_id=1002,
				dept_id=2,
				subject="Perte de signal",
				due_date=EVENING,
				due_time="pm",
				priority=3,
			),
			t(account_id=3003, dept_id=9, subject="Modem", due_date=0, due_time="day"),
			t(account_id=0, dept_id=2, subject="<b>Inventaire</b> camion", due_time="9h30", priority=0),
		]

	def test_preview_writes_nothing(self):
		ids = self.seed()
		before = (frappe.db.count("Dispatch Job"), frappe.db.count("Sync Log"))
		plan = api.preview()
		self.assertEqual(before, (frappe.db.count("Dispatch Job"), frappe.db.count("Sync Log")))
		self.assertEqual((plan["tickets"], plan["created"], plan["unmatched_customer"]), (4, 4, 1))
		self.assertEqual(plan["unmatched_accounts"], [3003])
		first = plan["tickets_detail"][0]
		self.assertEqual(first["legacy_ticket_id"], str(ids[0]))
		self.assertEqual(
			(first["action"], first["customer"], first["location_match"]),
			("create", "LD Marie Tremblay", "matched"),
		)

	def test_run_creates_jobs_with_the_mapped_fields_and_a_log(self):
		a, b, c, d = self.seed()
		out = api.run()
		self.assertEqual(out["status"], "Success")
		self.assertEqual(
			(out["tickets"], out["created"], out["errors"], out["unmatched_customer"]), (4, 4, 0, 1)
		)

		ja = job(a)
		location = frappe.db.get_value("Service Location", {"customer": "LD Marie Tremblay"})
		self.assertEqual(ja.ticket_id, f"LEG-{a}")
		self.assertEqual((ja.customer, ja.service_location), ("LD Marie Tremblay", location))
		self.assertAlmostEqual(ja.latitude, 45.7804)
		self.assertEqual(ja.subject, "Installation fibre")
		self.assertEqual(
			(ja.job_type, ja.duration_h, ja.priority, ja.status), ("Installation", 2, "low", "open")
		)
		self.assertEqual(ja.scheduled_date, date(2026, 11, 23))  # Toronto, not UTC
		self.assertEqual(get_time(ja.start_time), get_time("09:30:00"))
		self.assertIsNone(ja.assigned_tech)

		jb = job(b)
		self.assertEqual(jb.subject, "Perte de signal — 450 boul. Labelle, Blainville")  # no location matched
		self.assertEqual((jb.job_type, jb.duration_h, jb.priority), ("Réparation", 1.5, "high"))
		self.assertEqual(get_time(jb.start_time), get_time("13:00:00"))

		jc = job(c)
		self.assertIsNone(jc.customer)
		self.assertIsNone(jc.scheduled_date)
		self.assertIsNone(jc.start_time)  # an empty Time is not filled with "now"
		self.assertEqual(job(d).subject, "Inventaire camion")

		log = frappe.get_doc("Sync Log", out["log"])
		self.assertEqual(
			(log.status, log.trigger, log.created, log.tickets, log.run_lock), ("Success", "API", 4, 4, None)
		)
		rows = {r.legacy_ticket_id: r for r in log.outcomes}
		self.assertEqual({r.action for r in rows.values()}, {"create"})
		self.assertEqual(rows[str(a)].dispatch_job, ja.name)
		self.assertIn("due_time: unusable value '9h30'", rows[str(d)].warnings)

	def test_second_run_creates_nothing_and_writes_nothing(self):
		self.seed()
		sync.run()
		modified = {j.name: j.modified for j in frappe.get_all("Dispatch Job", fields=["name", "modified"])}
		out = sync.run()
		self.assertEqual((out["created"], out["updated"], out["unchanged"]), (0, 0, 4))
		self.assertEqual(
			modified,
			{j.name: j.modified for j in frappe.get_all("Dispatch Job", fields=["name", "modified"])},
		)

	def test_legacy_change_flows_into_an_untouched_job(self):
		a, *_ = self.seed()
		sync.run()
		self.legacy.update(
			a, subject="Installation fibre 2 Gb/s", due_time="am", priority=3, due_date=EVENING + 86400
		)
		out = sync.run()
		self.assertEqual((out["updated"], out["unchanged"]), (1, 3))
		ja = job(a)
		self.assertEqual(
			(ja.subject, ja.priority, ja.scheduled_date),
			("Installation fibre 2 Gb/s", "high", date(2026, 11, 24)),
		)
		self.assertEqual(get_time(ja.start_time), get_time("08:00:00"))
		self.assertEqual(sync.run()["unchanged"], 4)

	def test_assigned_or_edited_job_is_left_alone(self):
		a, b, c, _ = self.seed()
		sync.run()
		assigned = frappe.get_doc("Dispatch Job", job(a).name)
		assigned.assigned_tech = self.tech
		assigned.save()
		edited = frappe.get_doc("Dispatch Job", job(b).name)
		edited.scheduled_date = "2026-12-01"
		edited.save()
		frappe.db.commit()
		for t in (a, b, c):
			self.legacy.update(t, subject="Changé en legacy")
		out = sync.run()
		self.assertEqual((out["skipped"], out["updated"]), (2, 1))
		self.assertEqual(job(a).subject, "Installation fibre")
		self.assertEqual(str(job(b).scheduled_date), "2026-12-01")
		self.assertEqual(job(c).subject, "Changé en legacy")
		reasons = {r.legacy_ticket_id: r.reason for r in frappe.get_doc("Sync Log", out["log"]).outcomes}
		self.assertEqual(reasons[str(a)], "left alone: assigned to LD Tech")
		self.assertEqual(reasons[str(b)], "left alone: changed by a dispatcher: scheduled_date")

	def test_closed_ticket_cancels_its_untouched_job_and_reports_an_owned_one(self):
		a, b, *_ = self.seed()
		sync.run()
		owned = frappe.get_doc("Dispatch Job", job(b).name)
		owned.assigned_tech = self.tech
		owned.save()
		frappe.db.commit()
		self.legacy.update(a, status="closed")
		self.legacy.update(b, status="closed")
		out = sync.run()
		self.assertEqual((out["cancelled"], out["skipped"]), (1, 1))
		self.assertEqual(job(a).status, "cancelled")
		self.assertEqual(job(b).status, "open")
		reasons = {r.legacy_ticket_id: r.reason for r in frappe.get_doc("Sync Log", out["log"]).outcomes}
		self.assertEqual(reasons[str(b)], "ticket closed in legacy; job kept, assigned to LD Tech")

	def test_one_refused_ticket_does_not_stop_the_run(self):
		_a, b, _c, _d = self.seed()
		real_write = sync.write

		def refuse_b(decision, *found):
			if decision.legacy_ticket_id == str(b):
				real_write(decision, *found)  # the insert reaches the database, then the site refuses
				frappe.throw("Dispatch board closed for this customer")
			return real_write(decision, *found)

		with patch.object(sync, "write", refuse_b):
			out = sync.run()
		self.assertEqual((out["status"], out["created"], out["errors"]), ("Partial", 3, 1))
		self.assertFalse(frappe.db.exists("Dispatch Job", {"legacy_ticket_id": str(b)}))
		row = next(r for r in frappe.get_doc("Sync Log", out["log"]).outcomes if r.legacy_ticket_id == str(b))
		self.assertEqual(
			(row.action, row.reason),
			("error", "create refused by the site: Dispatch board closed for this customer"),
		)
		self.assertEqual(sync.run()["created"], 1)  # the next run picks it up

	def test_links_are_looked_up_once_per_batch_and_a_missing_one_is_still_refused(self):
		a, b, c, _ = self.seed()
		gone = frappe.get_doc(
			{"doctype": "Customer", "customer_name": "LD Gone", "legacy_account_id": "1004"}
		)
		gone.insert()
		e = self.legacy.ticket(account_id=1004, dept_id=1, subject="Client supprimé", due_date=EVENING)
		real_found = sync.found_links

		def deleted_first(batch):  # the customer goes between the plan and the writes
			frappe.db.delete("Customer", gone.name)
			return real_found(batch)

		def lookups():
			return patch.object(
				BaseDocument, "get_invalid_links", autospec=True, side_effect=BaseDocument.get_invalid_links
			)

		with patch.object(sync, "found_links", deleted_first), lookups() as looked_up:
			out = sync.run()
		self.assertEqual((out["created"], out["errors"]), (4, 1))
		self.assertEqual((job(a).customer, job(b).customer), ("LD Marie Tremblay", "LD Luc Gagnon"))
		self.assertEqual(jobs_looked_up(looked_up), [str(e)] * 2)  # Frappe's, for the link not found
		row = next(r for r in frappe.get_doc("Sync Log", out["log"]).outcomes if r.legacy_ticket_id == str(e))
		self.assertEqual(
			(row.action, row.reason),
			("error", "create refused by the site: Could not find Customer: LD Gone"),
		)

		self.legacy.update(a, subject="Changé en legacy")
		self.legacy.update(c, subject="Changé aussi")
		with lookups() as looked_up:
			self.assertEqual(sync.run()["updated"], 2)
		self.assertEqual(jobs_looked_up(looked_up), [])
		self.assertEqual(job(a).subject, "Changé en legacy")

	def test_links_are_left_to_frappe_where_it_fetches_values_through_them(self):
		meta = frappe.get_meta("Dispatch Job")
		doc = frappe.new_doc("Dispatch Job")
		changes = {"customer": "LD Marie Tremblay", "subject": "x"}
		found = {("Customer", "LD Marie Tremblay")}
		self.assertTrue(sync.links_found(doc, changes, found))
		self.assertFalse(sync.links_found(doc, changes, set()))
		self.assertTrue(sync.links_found(doc, {"subject": "x"}, set()))
		with patch.object(meta.get_field("note"), "fetch_from", "customer.customer_name"):
			self.assertFalse(sync.links_found(doc, changes, found))
		with patch.object(meta, "is_submittable", 1):
			self.assertFalse(sync.links_found(doc, changes, found))

	def test_a_run_freezes_the_workers_heap_and_leaves_it_as_it_was(self):
		during, frozen_before = [], gc.get_freeze_count()  # importing frappe.app freezes it
		gc.unfreeze()  # a classic RQ work horse's heap
		try:
			with patch.object(sync, "run_logged", lambda *args: during.append(gc.get_freeze_count()) or {}):
				sync.run()
				self.assertEqual(gc.get_freeze_count(), 0)
				gc.freeze()  # as Frappe's worker pool and web server freeze it when they start
				frozen = gc.get_freeze_count()
				sync.run()
				self.assertEqual(gc.get_freeze_count(), frozen)
		finally:
			if not frozen_before:
				gc.unfreeze()
		self.assertGreater(during[0], 0)
		self.assertEqual(during[1], frozen)

	def test_unreachable_legacy_database_fails_cleanly(self):
		self.seed()
		frappe.db.set_single_value("Legacy Dispatch Settings", "port", 1)
		out = sync.run()
		self.assertEqual(out["status"], "Failed")
		self.assertIn("cannot connect to the server", out["message"])
		self.assertEqual(len(own_jobs()), 0)
		self.assertIsNone(frappe.db.get_value("Sync Log", out["log"], "run_lock"))

	def test_a_run_in_progress_makes_the_next_one_skip_until_it_goes_stale(self):
		self.seed()
		holder = sync.new_log("Scheduler", None, status="Running", run_lock=sync.RUN_LOCK)
		holder.insert()
		frappe.db.commit()
		out = sync.run("Button")
		self.assertEqual((out["status"], out["created"]), ("Skipped", 0))
		# the holder's worker died: once its heartbeat is old, the lock is released
		frappe.db.set_value(
			"Sync Log", holder.name, "modified", add_to_date(now_datetime(), hours=-1), update_modified=False
		)
		frappe.db.commit()
		self.assertEqual(sync.run("Button")["created"], 4)
		self.assertEqual(frappe.db.get_value("Sync Log", holder.name, "status"), "Failed")

	def test_two_runs_started_at_the_same_moment_create_no_duplicate(self):
		ids = self.seed() + [self.legacy.ticket(subject=f"Lot {i}") for i in range(40)]
		start = time.time() + 3
		code = (
			"import time, frappe\n"
			f"frappe.init(site={frappe.local.site!r}, sites_path={frappe.local.sites_path!r}); frappe.connect()\n"
			"from legacy_dispatch.sync import run\n"
			f"while time.time() < {start}: time.sleep(0.001)\n"
			"r = run('CLI'); print(r['status'], r['created']); frappe.destroy()\n"
		)
		procs = [
			subprocess.Popen(
				[sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
			)
			for _ in range(2)
		]
		outputs = [p.communicate(timeout=120) for p in procs]
		self.assertEqual([p.returncode for p in procs], [0, 0], outputs)
		results = sorted(out.split()[-2:] for out, _err in outputs)
		created = sum(int(n) for _status, n in results)
		self.assertEqual(created, len(ids), results)
		keys = frappe.get_all(
			"Dispatch Job", filters={"legacy_ticket_id": ("is", "set")}, pluck="legacy_ticket_id"
		)
		self.assertEqual(sorted(keys, key=int), [str(i) for i in ids])

	def test_ordinary_jobs_without_a_legacy_ticket_and_the_unique_key(self):
		ordinary = [
			frappe.get_doc({"doctype": "Dispatch Job", "subject": f"{OWN_SUBJECT}tournée {i}"}).insert()
			for i in range(2)
		]
		self.assertEqual([j.legacy_ticket_id for j in ordinary], [None, None])
		frappe.get_doc(
			{"doctype": "Dispatch Job", "subject": "A", "legacy_ticket_id": str(OWN_TICKETS + 10**6)}
		).insert()
		with self.assertRaises(Exception) as refused:
			frappe.get_doc(
				{"doctype": "Dispatch Job", "subject": "B", "legacy_ticket_id": str(OWN_TICKETS + 10**6)}
			).insert()
		self.assertTrue(sync.duplicate(refused.exception), refused.exception)
		frappe.db.rollback()

	def test_only_system_managers(self):
		frappe.set_user("Guest")
		frappe.flags.in_test = False  # frappe.only_for lets everyone through in tests
		try:
			for method in (api.preview, api.run, api.enqueue_run):
				with self.assertRaises(frappe.PermissionError):
					method()
		finally:
			frappe.flags.in_test = True
			frappe.set_user("Administrator")
		self.assertEqual(frappe.db.count("Sync Log", {"name": ("not in", self.site_logs or [""])}), 0)

	def test_scheduler_enqueues_only_when_enabled_and_due(self):
		self.seed()
		settings = frappe.get_single("Legacy Dispatch Settings")
		settings.enabled = 0
		settings.save()
		self.assertFalse(sync.due())
		settings.enabled, settings.sync_period = 1, 15
		settings.save()
		self.assertTrue(sync.due())
		sync.scheduled()  # runs inline in tests
		self.assertEqual(frappe.db.get_value("Sync Log", {"trigger": "Scheduler"}, "created"), 4)
		self.assertFalse(sync.due())
		frappe.db.set_single_value("Legacy Dispatch Settings", "sync_period", 1)
		log = frappe.get_all("Sync Log", pluck="name")[0]
		frappe.db.set_value("Sync Log", log, "started", add_to_date(now_datetime(), minutes=-2))
		self.assertTrue(sync.due())
		frappe.db.set_single_value("Legacy Dispatch Settings", "enabled", 0)
		frappe.db.commit()

	def test_a_settled_ticket_is_not_mapped_again_and_every_change_is_noticed(self):
		ids = self.seed()  # the third: an unmatched account, still counted; the last: warnings, never settled

		def run_and_compare(mapped: int) -> dict:
			full = list(map(planner.outcome, sync.plan_now()))
			tickets, gone, config, jobs_for, directory = sync.read_legacy()
			chunks = planner.plan_chunks(tickets, gone, config, jobs_for, directory)
			self.assertEqual([planner.outcome(d) for chunk in chunks for d in chunk], full)
			with patch.object(planner, "map_ticket", wraps=planner.map_ticket) as mapping:
				out = sync.run()
			self.assertEqual(mapping.call_count, mapped)
			return out

		run_and_compare(4)
		self.assertEqual([bool(job(t).legacy_digest) for t in ids], [True, True, True, False])
		out = run_and_compare(1)
		self.assertEqual(
			(out["unchanged"], out["unmatched_customer"], out["unmatched_accounts"]), (4, 1, [3003])
		)
		doc = frappe.get_doc("Dispatch Job", job(ids[0]).name)  # a dispatcher's edit
		doc.priority = "urgent"
		doc.save()
		self.assertEqual(run_and_compare(2)["skipped"], 1)
		name, note = job(ids[1]).name, job(ids[1]).note
		frappe.db.set_value("Dispatch Job", name, "note", "vu", update_modified=False)  # by SQL, not saved
		self.assertEqual(run_and_compare(3)["skipped"], 2)
		frappe.db.set_value("Dispatch Job", name, "note", note, update_modified=False)
		self.assertEqual(run_and_compare(2)["skipped"], 1)  # as it was: its fingerprint holds again
		before = frappe.db.get_single_value("Legacy Dispatch Settings", "duration_reparation")
		try:
			frappe.get_doc(
				{"doctype": "Customer", "customer_name": "LD Late", "legacy_account_id": "3003"}
			).insert()
			self.assertEqual((run_and_compare(3)["updated"], job(ids[2]).customer), (1, "LD Late"))
			frappe.db.set_single_value("Legacy Dispatch Settings", "duration_reparation", 4)
			self.assertEqual(run_and_compare(4)["updated"], 2)  # the two Réparation tickets
			self.legacy.update(ids[1], status="closed")
			self.assertEqual(run_and_compare(2)["cancelled"], 1)
		finally:
			frappe.db.set_single_value("Legacy Dispatch Settings", "duration_reparation", before)
			frappe.delete_doc("Customer", "LD Late", force=True)
			frappe.db.commit()

	def test_lookups_do_not_grow_with_the_number_of_tickets(self):
		counts = {}
		for n in (10, 200):
			clean_site()
			self.setUp()
			for i in range(n):
				self.legacy.ticket(
					account_id=1001 + i % 2, dept_id=1 + i % 2, subject=f"T{i}", due_date=EVENING
				)
			sync.run()
			counts[n] = (count_queries(sync.plan_now), count_queries(sync.run))
		self.assertEqual(counts[10], counts[200])
		(plan_site, plan_legacy), _run = counts[200]
		self.assertEqual(plan_legacy, 2)  # read-only session, then one streamed SELECT
		self.assertLess(plan_site, 10)

	def test_the_directory_reads_any_account_id_and_every_location(self):
		odd = {"LD Quote": 'A"1', "LD Backslash": "B\\2", "LD Comma": "C,3 {x}"}
		try:
			for customer, account in odd.items():
				frappe.get_doc(
					{"doctype": "Customer", "customer_name": customer, "legacy_account_id": account}
				).insert()
			for city in ("Laval", "Mirabel"):
				frappe.get_doc({"doctype": "Service Location", "customer": "LD Comma", "city": city}).insert()
			directory = sync.load_directory({*odd.values(), "1001", "9999"})
			self.assertEqual(
				directory.customers,
				{**{account: [customer] for customer, account in odd.items()}, "1001": ["LD Marie Tremblay"]},
			)
			self.assertEqual(
				sorted(loc.city for loc in directory.locations["LD Comma"]), ["Laval", "Mirabel"]
			)
			self.assertEqual([loc.city for loc in directory.locations["LD Marie Tremblay"]], ["Saint-Jérôme"])
			self.assertFalse(directory.locations.get("LD Quote"))
		finally:
			frappe.db.delete("Service Location", {"customer": ("in", list(odd))})
			frappe.db.delete("Customer", {"name": ("in", list(odd))})
			frappe.db.commit()
