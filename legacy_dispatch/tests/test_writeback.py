"""Write-back to the legacy ticket (SPEC §6.4) on a real site, against a real legacy MariaDB,
under a writer user that has only the README's column rights. See docs/reliability.md."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import frappe
from frappe.utils import get_time
from frappe.utils.background_jobs import get_queue

from legacy_dispatch import api, sync, writeback
from legacy_dispatch.core.legacy import LegacyError
from legacy_dispatch.tests.test_faults import in_subprocess
from legacy_dispatch.tests.utils import (
	WRITER,
	BridgeTestCase,
	clean_site,
	fresh_legacy,
	grant_writer,
	technician,
)

SWITCHES = ("writeback_schedule", "writeback_technician", "writeback_completed", "writeback_cancelled")


def utc(*args) -> int:
	return int(datetime(*args, tzinfo=UTC).timestamp())


def job(ticket_id):
	return frappe.get_doc("Dispatch Job", {"legacy_ticket_id": str(ticket_id)})


def outbox(ticket_id, **filters) -> list:
	return frappe.get_all(
		"Legacy Write Back",
		filters={"legacy_ticket_id": str(ticket_id), **filters},
		fields=["*"],
		order_by="creation asc",
	)


class TestWriteBack(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.tech = technician()  # with a legacy staff id
		frappe.db.set_value("Dispatch Technician", cls.tech, "legacy_staff_id", 4001)
		name = "LD Tech Without Staff Id"
		cls.tech_without_id = frappe.db.get_value("Dispatch Technician", {"full_name": name}) or (
			frappe.get_doc({"doctype": "Dispatch Technician", "full_name": name}).insert().name
		)
		frappe.db.commit()

	def setUp(self):
		clean_site()
		self.legacy = fresh_legacy()
		grant_writer(self.legacy)
		# every write to a ticket, with its author: "sent once" is counted, not assumed
		self.legacy.sql("CREATE TABLE ticket_writes (ticket_id INT, author VARCHAR(100))")
		self.legacy.sql(
			"CREATE TRIGGER count_writes AFTER UPDATE ON ticket FOR EACH ROW"
			" INSERT INTO ticket_writes VALUES (NEW.id, USER())"
		)
		self.configure(**dict.fromkeys(SWITCHES, 1))

	def configure(self, **values):
		settings = frappe.get_single("Legacy Dispatch Settings")
		settings.update(values)
		settings.save()
		frappe.db.commit()

	def writes(self, ticket_id) -> int:
		"""The writer's writes to this ticket."""
		cur = self.legacy.sql(
			"SELECT COUNT(*) FROM ticket_writes WHERE ticket_id = %s AND author LIKE 'ld\\_writer@%%'",
			(ticket_id,),
		)
		return cur.fetchone()[0]

	def row(self, ticket_id) -> dict:
		cols = ("due_date", "due_time", "assign_to", "status", "date_closed", "last_update")
		cur = self.legacy.sql(f"SELECT {', '.join(cols)} FROM ticket WHERE id = %s", (ticket_id,))
		return dict(zip(cols, cur.fetchone(), strict=True))

	def imported(self, **cols) -> int:
		t = self.legacy.ticket(**cols)
		sync.run("CLI")
		return t

	def dispatch(self, ticket_id, **values):
		"""A dispatcher's save, committed."""
		doc = job(ticket_id)
		doc.update(values)
		doc.save()
		frappe.db.commit()
		return doc

	def test_each_kind_of_write_back_reaches_the_ticket(self):
		t = self.imported(due_date=utc(2026, 11, 30, 14), due_time="am")
		other = self.imported()
		self.dispatch(t, scheduled_date="2026-12-02", start_time="19:30:00")
		[pending] = outbox(t, status="Pending")
		self.assertEqual((pending.columns, pending.user), ("due_date, due_time", "Administrator"))
		self.assertEqual(writeback.send_pending()["Sent"], 1)
		# the evening in Toronto is the next day in UTC; the local date and time are what legacy gets
		self.assertEqual(
			(self.row(t)["due_date"], self.row(t)["due_time"]), (utc(2026, 12, 3, 0, 30), "19:30")
		)
		self.assertGreater(self.row(t)["last_update"], 1)
		[sent] = outbox(t)
		self.assertEqual(sent.status, "Sent")
		self.assertEqual(json.loads(sent.old_values)["due_time"], "am")
		self.assertEqual(
			json.loads(sent.new_values), {"due_date": utc(2026, 12, 3, 0, 30), "due_time": "19:30"}
		)

		self.dispatch(t, assigned_tech=self.tech, status="assigned")
		writeback.send_pending()
		self.assertEqual(self.row(t)["assign_to"], 4001)
		self.dispatch(t, status="completed")
		self.dispatch(other, status="cancelled")
		writeback.send_pending()
		for ticket in (t, other):
			self.assertEqual(self.row(ticket)["status"], "closed")
			self.assertAlmostEqual(self.row(ticket)["date_closed"], time.time(), delta=120)
		self.assertEqual((self.writes(t), self.writes(other)), (3, 1))
		self.assertEqual({r.status for r in outbox(t) + outbox(other)}, {"Sent"})

	def test_switched_off_nothing_is_queued_and_a_technician_without_staff_id_keeps_the_ticket(self):
		t = self.imported()
		self.configure(**dict.fromkeys(SWITCHES, 0))
		self.dispatch(t, scheduled_date="2026-12-02", assigned_tech=self.tech, status="completed")
		self.assertEqual(outbox(t), [])
		self.assertEqual(writeback.send_pending()["Sent"], 0)
		self.assertEqual(self.writes(t), 0)

		t2 = self.imported()
		self.configure(writeback_schedule=1, writeback_technician=1)
		self.dispatch(t2, scheduled_date="2026-12-02", assigned_tech=self.tech_without_id, status="assigned")
		writeback.send_pending()
		self.assertEqual((self.row(t2)["assign_to"], self.row(t2)["due_time"]), (3301, "day"))
		self.assertEqual(self.row(t2)["due_date"], utc(2026, 12, 2, 5))

	def test_a_ticket_changed_in_legacy_meanwhile_is_not_written(self):
		t = self.imported(due_time="am")
		self.dispatch(t, start_time="15:00:00")
		self.legacy.update(t, due_time="pm", last_update=99)  # the call centre, before the send
		self.assertEqual(writeback.send_pending()["Conflict"], 1)
		self.assertEqual((self.row(t)["due_time"], self.writes(t)), ("pm", 0))
		[conflict] = outbox(t)
		self.assertEqual(conflict.status, "Conflict")
		self.assertEqual(json.loads(conflict.old_values)["due_time"], "am")
		self.assertEqual(json.loads(conflict.new_values)["due_time"], "15:00")
		self.assertEqual(json.loads(conflict.legacy_values)["due_time"], "pm")
		# the next read takes the legacy values as the new reference; the dispatcher's job stays
		sync.run("CLI")
		self.assertEqual(json.loads(job(t).legacy_record)["due_time"], "pm")
		self.assertEqual(str(get_time(job(t).start_time)), "15:00:00")
		self.dispatch(t, start_time="16:00:00")  # a later change is written over the new reference
		self.assertEqual(writeback.send_pending()["Sent"], 1)
		self.assertEqual(self.row(t)["due_time"], "16:00")

	def test_no_echo_and_the_reassigned_ticket_stays_tracked(self):
		t, untouched = self.imported(due_time="am"), self.imported()
		self.dispatch(
			t, scheduled_date="2026-12-02", start_time="09:00:00", assigned_tech=self.tech, status="assigned"
		)
		writeback.send_pending()
		self.assertEqual(self.row(t)["assign_to"], 4001)  # it left the bridge's selection
		modified = job(t).modified
		self.legacy.update(untouched, due_time="pm")  # a legacy change, brought in by the bridge
		for _run in range(2):
			out = sync.run("CLI")
			self.assertEqual((out["cancelled"], out["errors"]), (0, 0))
		self.assertEqual(job(t).status, "assigned")
		self.assertEqual(job(t).modified, modified)
		self.assertEqual(str(get_time(job(untouched).start_time)), "13:00:00")
		self.assertEqual(len(outbox(t)), 1)  # nothing queued by the bridge's own saves
		self.assertEqual(outbox(untouched), [])
		self.assertEqual(self.writes(t), 1)
		reason = frappe.get_all(
			"Sync Log Ticket", filters={"legacy_ticket_id": str(t)}, pluck="reason", order_by="creation desc"
		)[0]
		self.assertIn("by the write-back", reason)
		# a reassignment made in legacy still counts as one
		self.legacy.update(t, assign_to=5005)
		sync.run("CLI")
		reason = frappe.get_all(
			"Sync Log Ticket", filters={"legacy_ticket_id": str(t)}, pluck="reason", order_by="creation desc"
		)[0]
		self.assertIn("reassigned in legacy (staff 5005)", reason)

	def test_legacy_down_then_back_sends_once(self):
		t = self.imported()
		self.dispatch(t, start_time="10:00:00", scheduled_date="2026-12-02")
		frappe.db.set_single_value("Legacy Dispatch Settings", "port", 1)  # nothing listens there
		frappe.db.commit()
		for _attempt in range(2):
			self.assertEqual(writeback.send_pending()["Sent"], 0)
		[waiting] = outbox(t)
		self.assertEqual((waiting.status, waiting.attempts), ("Pending", 2))
		self.assertIn("cannot connect", waiting.message)
		self.assertNotIn(WRITER[1], waiting.message)
		frappe.db.set_single_value("Legacy Dispatch Settings", "port", self.legacy.conn.port)
		frappe.db.commit()
		self.assertEqual(writeback.send_pending()["Sent"], 1)
		self.assertEqual(writeback.send_pending()["Sent"], 0)
		self.assertEqual(self.writes(t), 1)

	def test_a_worker_killed_mid_send_does_not_write_twice(self):
		t = self.imported()
		self.dispatch(t, scheduled_date="2026-12-02")
		killed = in_subprocess(
			"import os, signal\n"
			"from legacy_dispatch import writeback\n"
			"from legacy_dispatch.core.writeback import LegacyWriter\n"
			"cas = LegacyWriter.compare_and_set\n"
			"def die(*a, **k):\n"
			"    cas(*a, **k); os.kill(os.getpid(), signal.SIGKILL)  # written, not recorded\n"
			"LegacyWriter.compare_and_set = die\n"
			"writeback.send_pending()"
		)
		killed.communicate(timeout=120)
		self.assertEqual(killed.returncode, -9)
		frappe.db.rollback()
		self.assertEqual((outbox(t)[0].status, self.writes(t)), ("Pending", 1))
		self.assertEqual(writeback.send_pending()["Sent"], 1)
		[sent] = outbox(t)
		self.assertIn("already held", sent.message)
		self.assertEqual(self.writes(t), 1)

	def test_two_workers_sending_at_once_send_each_change_once(self):
		tickets = [self.imported() for _i in range(3)]
		tickets += [self.legacy.ticket() for _i in range(17)]
		sync.run("CLI")
		for i, t in enumerate(tickets):
			self.dispatch(t, scheduled_date=f"2026-12-{i + 1:02d}")
			self.dispatch(t, start_time="08:30:00")  # two changes: one write, the latest values
		start = time.time() + 4
		workers = [
			in_subprocess("from legacy_dispatch import writeback; print(writeback.send_pending())", start)
			for _w in range(2)
		]
		results = [w.communicate(timeout=180) for w in workers]
		self.assertEqual([w.returncode for w in workers], [0, 0], results)
		frappe.db.rollback()
		for t in tickets:
			self.assertEqual(self.writes(t), 1, t)
			self.assertEqual(self.row(t)["due_time"], "08:30")
			self.assertEqual([r.status for r in outbox(t)], ["Superseded", "Sent"])
		print(
			"\n2 senders at once over 20 tickets with 2 changes each:", [out.strip() for out, _e in results]
		)

	def test_a_save_is_sent_by_the_background_job(self):
		"""No run needed: the save queues the sending, a worker sends it."""
		t = self.imported()
		frappe.flags.in_test = False  # as on a live site: the save queues the sending
		try:
			self.dispatch(t, scheduled_date="2026-12-02")
		finally:
			frappe.flags.in_test = True
		# the job this save queued, taken off the bench's shared queue and run as a worker would
		# (a worker of another test site must not pick up this one)
		queue = get_queue("short")
		[queued] = [
			j
			for j in queue.jobs
			if j.kwargs.get("site") == frappe.local.site and j.kwargs.get("method") == writeback.SEND_METHOD
		]
		queue.remove(queued)
		code = (
			f"import frappe; frappe.init(site={frappe.local.site!r})\n"
			"from rq.job import Job\n"
			"from frappe.utils.background_jobs import get_redis_conn\n"
			f"Job.fetch({queued.id!r}, connection=get_redis_conn()).perform()"
		)
		worker = subprocess.run(
			[sys.executable, "-c", code],
			cwd=frappe.local.sites_path,
			capture_output=True,
			text=True,
			timeout=120,
		)
		err = worker.stderr
		self.assertEqual(worker.returncode, 0, err[-2000:])
		frappe.db.rollback()
		self.assertEqual(outbox(t)[0].status, "Sent")
		self.assertEqual(self.row(t)["due_date"], utc(2026, 12, 2, 5))

	def test_the_desk_shows_the_state(self):
		t = self.imported()
		self.dispatch(t, scheduled_date="2026-12-02")
		state = api.legacy_state(job(t).name)["writeback"]
		self.assertEqual((state["writeback"], state["pending"]), (True, 1))
		plan = api.preview()
		self.assertEqual(plan["writeback"]["pending"], 1)
		self.assertEqual(plan["writeback"]["detail"][0]["new_values"]["due_time"], "day")
		frappe.db.set_value("Legacy Write Back", outbox(t)[0].name, "creation", "2020-01-01 00:00:00")
		self.assertTrue(any("write-back" in w for w in api.health()["warnings"]))
		writeback.send_pending()
		state = api.legacy_state(job(t).name)["writeback"]
		self.assertEqual((state["pending"], state["last"].status), (0, "Sent"))

	def test_settings_and_test_connection(self):
		settings = frappe.get_single("Legacy Dispatch Settings")
		self.assertEqual(settings.test_connection()["ok"], True)
		self.assertIn("writer", settings.test_connection())
		self.legacy.sql(
			f"REVOKE UPDATE (status) ON `{self.legacy.conn.database}`.ticket FROM 'ld_writer'@'%'"
		)
		self.legacy.sql(
			f"REVOKE UPDATE (status) ON `{self.legacy.conn.database}`.ticket FROM 'ld_writer'@'localhost'"
		)
		out = settings.test_connection()
		self.assertFalse(out["ok"])
		self.assertIn("Write-back user", out["reason"])
		self.assertIn("denied", out["reason"])
		settings.source_profile = "osTicket"
		self.assertRaises(frappe.ValidationError, settings.save)
		settings.reload()
		settings.writeback_user = ""
		self.assertRaises(frappe.ValidationError, settings.save)
		# the reader keeps its own user and its read-only session
		source, _config = sync.open_legacy()
		with source:
			self.assertEqual(source.params.user, self.legacy.conn.user)
			with self.assertRaisesRegex(LegacyError, "READ ONLY"):
				source.execute(source.db.cursor(), "UPDATE ticket SET due_time = 'pm' WHERE id = 0")

	def test_other_sources_have_no_write_back(self):
		"""Even with the switches left on (validation bypassed), another source writes nothing back."""
		t = self.imported()
		frappe.db.set_single_value("Legacy Dispatch Settings", "source_profile", "osTicket")
		self.addCleanup(
			frappe.db.set_single_value, "Legacy Dispatch Settings", "source_profile", "gestionclient"
		)
		self.dispatch(t, scheduled_date="2026-12-02")
		self.assertEqual(outbox(t), [])
		self.assertFalse(api.legacy_state(job(t).name)["writeback"]["writeback"])
