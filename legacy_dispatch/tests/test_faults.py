"""Faults on a real site: the legacy server failing, workers killed, runs racing, the site
refusing a ticket, a dispatcher saving during a run. See docs/reliability.md."""

import os
import socket
import subprocess
import sys
import time
from unittest.mock import patch

import frappe

from legacy_dispatch import sync
from legacy_dispatch.core.legacy import LegacyDB
from legacy_dispatch.tests.utils import BridgeTestCase, clean_site, ensure_target_doctypes, fresh_legacy

TRIALS = int(os.environ.get("LEGACY_DISPATCH_TRIALS", "3"))


def in_subprocess(body: str, start_at: float | None = None, env: dict | None = None) -> subprocess.Popen:
	"""Run `body` in a new process connected to this site (a second worker, a dispatcher…)."""
	code = (
		"import time, frappe\n"
		f"frappe.init(site={frappe.local.site!r}, sites_path={frappe.local.sites_path!r}); frappe.connect()\n"
		f"while time.time() < {start_at or 0}: time.sleep(0.001)\n"
		f"{body}\n"
		"frappe.db.commit(); frappe.destroy()\n"
	)
	return subprocess.Popen(
		[sys.executable, "-c", code],
		stdout=subprocess.PIPE,
		stderr=subprocess.PIPE,
		text=True,
		env={**os.environ, **(env or {})},
	)


def legacy_jobs() -> list[str]:
	return frappe.get_all(
		"Dispatch Job", filters={"legacy_ticket_id": ("is", "set")}, pluck="legacy_ticket_id"
	)


def refuse_marked_jobs(doc, method=None):
	"""A site's own validation hook on Dispatch Job (stands for any custom rule)."""
	if "REFUSE" in (doc.subject or ""):
		frappe.throw("Subject not allowed on the board")


class TestFaults(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_target_doctypes()
		if not frappe.db.exists("Customer", "LD Fault Customer"):
			frappe.get_doc(
				{"doctype": "Customer", "customer_name": "LD Fault Customer", "legacy_account_id": "4004"}
			).insert()
		frappe.db.commit()

	def setUp(self):
		clean_site()
		self.legacy = fresh_legacy()
		self.ids = [self.legacy.ticket(subject=f"Panne {i}", account_id=4004) for i in range(12)]

	def tearDown(self):
		self.legacy.admin.close()

	def assert_complete_without_duplicates(self):
		jobs = legacy_jobs()
		self.assertEqual(sorted(jobs, key=int), [str(i) for i in self.ids])

	def test_legacy_failures_fail_cleanly_then_the_next_run_recovers(self):
		with socket.socket() as hung:
			hung.bind(("127.0.0.1", 0))
			hung.listen(8)
			cases = [
				({"port": 1}, "cannot connect to the server"),
				({"password": "wrong"}, "access denied (wrong user or password) [1045]"),
				({"database": "no_such_db"}, "unknown database [1049]"),
				(
					{"port": hung.getsockname()[1], "connect_timeout": 1},
					"connection lost or timed out [2013]",
				),
			]
			good = frappe.get_single("Legacy Dispatch Settings").as_dict()
			for change, reason in cases:
				with self.subTest(change=change):
					frappe.get_single("Legacy Dispatch Settings").update(change).save()
					out = sync.run()
					self.assertEqual(out["status"], "Failed")
					self.assertIn(reason, out["message"])
					self.assertEqual(legacy_jobs(), [])
					settings = frappe.get_single("Legacy Dispatch Settings")
					settings.update({k: good[k] for k in change if k != "password"})
					settings.password = self.legacy.conn.password.reveal()
					settings.save()
		self.assertEqual(sync.run()["created"], len(self.ids))
		self.assert_complete_without_duplicates()

	def test_query_timeout(self):
		frappe.db.set_single_value("Legacy Dispatch Settings", "read_timeout", 1)
		self.legacy.sql("LOCK TABLES ticket WRITE")
		try:
			out = sync.run()
		finally:
			self.legacy.sql("UNLOCK TABLES")
			frappe.db.set_single_value("Legacy Dispatch Settings", "read_timeout", 60)
		self.assertEqual(out["status"], "Failed")
		self.assertIn("connection lost or timed out [2013]", out["message"])
		self.assertEqual(legacy_jobs(), [])
		self.assertEqual(sync.run()["created"], len(self.ids))

	def test_connection_lost_in_the_middle_of_a_run_writes_nothing(self):
		sync.run()
		self.legacy.update(self.ids[0], status="closed")
		self.legacy.update(self.ids[1], subject="Panne totale")
		real = LegacyDB.open_tickets
		admin = self.legacy

		def then_lose_the_connection(source, staff_id):
			yield from real(source, staff_id)
			admin.sql(f"KILL {source.db.thread_id()}")  # before the closed tickets are looked up

		with patch.object(LegacyDB, "open_tickets", then_lose_the_connection):
			out = sync.run()
		self.assertEqual(out["status"], "Failed")
		self.assertIn("[20", out["message"])  # 2006 / 2013: server gone, connection lost
		self.assertEqual(frappe.get_all("Dispatch Job", filters={"status": "cancelled"}), [])
		self.assertEqual(
			frappe.db.get_value("Dispatch Job", {"legacy_ticket_id": str(self.ids[1])}, "subject"), "Panne 1"
		)

		out = sync.run()
		self.assertEqual(
			(out["status"], out["cancelled"], out["updated"], out["created"]), ("Success", 1, 1, 0)
		)
		self.assert_complete_without_duplicates()

	def test_worker_killed_in_the_middle_of_a_run(self):
		killed = in_subprocess(
			"import os, signal\n"
			"from legacy_dispatch import sync\n"
			"sync.COMMIT_EVERY = 5\n"
			"frappe.publish_progress = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # after the 1st commit\n"
			"sync.run('Scheduler')"
		)
		killed.communicate(timeout=120)
		self.assertEqual(killed.returncode, -9)
		frappe.db.rollback()  # see what the dead worker committed
		dead_log = frappe.get_all("Sync Log", fields=["name", "status", "run_lock"])
		self.assertEqual([(d.status, d.run_lock) for d in dead_log], [("Running", sync.RUN_LOCK)])
		self.assertEqual(len(legacy_jobs()), 5)  # its first batch

		out = sync.run("Scheduler")  # no need to wait: its process is gone
		self.assertEqual((out["status"], out["created"], out["unchanged"]), ("Success", len(self.ids) - 5, 5))
		self.assertEqual(
			frappe.db.get_value("Sync Log", dead_log[0].name, ["status", "run_lock"]), ("Failed", None)
		)
		self.assert_complete_without_duplicates()

	def test_two_runs_started_at_the_same_moment(self):
		"""Scheduler and button, or two workers, released at the same instant: when they
		overlap, one does the work and the other is Skipped; when one happens to finish before
		the other starts, the second finds everything up to date. Never a duplicate.
		LEGACY_DISPATCH_TRIALS sets the number of trials (100 for docs/reliability.md)."""
		self.ids += [self.legacy.ticket(subject=f"Lot {i}") for i in range(150)]
		n = len(self.ids)
		outcomes = []
		for _trial in range(TRIALS):
			clean_site()
			start = time.time() + 4
			procs = [
				in_subprocess(
					f"from legacy_dispatch.sync import run; r = run({t!r}); print(r['status'], r['created'])",
					start,
				)
				for t in ("Scheduler", "Button")
			]
			results = [p.communicate(timeout=180) for p in procs]
			self.assertEqual([p.returncode for p in procs], [0, 0], results)
			frappe.db.rollback()
			self.assert_complete_without_duplicates()
			outcome = tuple(sorted(tuple(out.split()[-2:]) for out, _err in results))
			self.assertIn(
				outcome, {(("Skipped", "0"), ("Success", str(n))), (("Success", "0"), ("Success", str(n)))}
			)
			outcomes.append(outcome[0][0])
		self.assertIn("Skipped", outcomes)  # the runs did overlap
		print(
			f"\n{TRIALS} trials of two simultaneous runs: {outcomes.count('Skipped')} overlapped (one Skipped),"
			f" {outcomes.count('Success')} did not (the second found all {n} up to date); 0 duplicates"
		)

	def test_site_refuses_one_ticket(self):
		self.legacy.update(self.ids[3], subject="REFUSE me")
		if frappe.db.exists("Customer", "LD Gone Customer"):  # left by an interrupted earlier run
			frappe.delete_doc("Customer", "LD Gone Customer", force=True)
		gone = frappe.get_doc(
			{"doctype": "Customer", "customer_name": "LD Gone Customer", "legacy_account_id": "5005"}
		).insert()
		self.legacy.update(self.ids[4], account_id=5005)
		frappe.db.commit()
		real_load = sync.load_directory

		def load_then_customer_deleted(accounts):
			directory = real_load(accounts)
			frappe.delete_doc("Customer", gone.name, force=True)  # deleted meanwhile
			return directory

		hooks = {"Dispatch Job": {"validate": ["legacy_dispatch.tests.test_faults.refuse_marked_jobs"]}}
		with (
			patch.object(sync, "load_directory", load_then_customer_deleted),
			patch.object(frappe, "get_doc_hooks", lambda: hooks),
		):
			out = sync.run()
		self.assertEqual((out["status"], out["created"], out["errors"]), ("Partial", len(self.ids) - 2, 2))
		reasons = {
			r.legacy_ticket_id: r.reason
			for r in frappe.get_doc("Sync Log", out["log"]).outcomes
			if r.action == "error"
		}
		self.assertEqual(
			reasons[str(self.ids[3])], "create refused by the site: Subject not allowed on the board"
		)
		self.assertIn("Could not find Customer: LD Gone Customer", reasons[str(self.ids[4])])
		self.assertEqual(sorted(legacy_jobs(), key=int), [str(i) for i in self.ids if i not in self.ids[3:5]])

	def test_dispatcher_saving_during_a_run_wins(self):
		sync.run()
		target = self.ids[2]
		name = frappe.db.get_value("Dispatch Job", {"legacy_ticket_id": str(target)})
		self.legacy.update(target, subject="Changé en legacy", priority=3)
		real_write = sync.write

		def dispatcher_saves_first(decision, *found):
			if decision.legacy_ticket_id == str(target):
				dispatcher = in_subprocess(
					f"doc = frappe.get_doc('Dispatch Job', {name!r}); doc.scheduled_date = '2026-12-24'; doc.save()"
				)
				self.assertEqual(dispatcher.wait(60), 0, dispatcher.stderr.read())
			return real_write(decision, *found)

		with patch.object(sync, "write", dispatcher_saves_first):
			out = sync.run()
		row = next(
			r for r in frappe.get_doc("Sync Log", out["log"]).outcomes if r.legacy_ticket_id == str(target)
		)
		self.assertEqual(row.action, "skip")
		self.assertEqual(row.reason, "left alone: changed by a dispatcher: scheduled_date (during this run)")
		job = frappe.get_doc("Dispatch Job", name)
		self.assertEqual(
			(str(job.scheduled_date), job.subject, job.priority), ("2026-12-24", "Panne 2", "medium")
		)
		self.assertEqual(sync.run()["skipped"], 1)  # and from then on
