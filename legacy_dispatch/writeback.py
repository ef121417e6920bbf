"""Write-back to the legacy ticket (opt-in, gestionclient only): the Frappe side.

A dispatcher's change to a bridge job is put in the outbox (a Legacy Write Back row) in
the same transaction as the save, then sent after commit by a background job, and again
at every scheduler tick while the legacy server cannot be reached. Sending is per ticket,
under the job's row lock: all of a ticket's pending changes go in one compare-and-set (the
latest value per column), and their outcome is committed before the next ticket. The
compare-and-set makes a retry after a killed worker harmless (see core.writeback).
"""

import json
import time

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, now_datetime

from legacy_dispatch.core.legacy import LegacyError
from legacy_dispatch.core.mapping import Text
from legacy_dispatch.core.planner import TRACKED
from legacy_dispatch.core.sources import GESTIONCLIENT, profile_name
from legacy_dispatch.core.writeback import (
	ALREADY,
	CONFLICT,
	MISSING,
	SENT,
	LegacyWriter,
	Switches,
	changes,
	merge,
)
from legacy_dispatch.health import SETTINGS

OUTBOX = "Legacy Write Back"
SEND_METHOD = "legacy_dispatch.writeback.send_pending"
STATUS = {SENT: "Sent", ALREADY: "Sent", CONFLICT: "Conflict", MISSING: "Refused"}
MESSAGES = {
	SENT: Text("Written to the legacy ticket."),
	ALREADY: Text("The legacy ticket already held these values: nothing written."),
	CONFLICT: Text(
		"Not written: the ticket changed in legacy since it was read. Legacy wins; the next run reads it."
	),
	MISSING: Text("Not written: the ticket no longer exists in legacy."),
}


def switches(s) -> Switches:
	"""The kinds of write-back turned on; none with a source other than gestionclient."""
	if profile_name(s.source_profile) != GESTIONCLIENT:
		return Switches()
	return Switches(
		bool(s.writeback_schedule),
		bool(s.writeback_technician),
		bool(s.writeback_completed),
		bool(s.writeback_cancelled),
	)


def dump(values) -> str:
	return json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)


def queue(doc, method=None):
	"""doc_events on_update of Dispatch Job: a dispatcher's change to a bridge job (created or
	adopted) that a switch covers goes to the outbox, in the save's transaction."""
	if frappe.flags.in_legacy_sync or not doc.legacy_ticket_id or not doc.legacy_synced:
		return
	before = doc.get_doc_before_save()
	s = frappe.get_cached_doc(SETTINGS)
	on = switches(s)
	if not before or not on.any():
		return
	staff = cint(s.staff_id) or 3301  # a job without technician goes back to the field account
	if doc.assigned_tech:
		staff = cint(frappe.db.get_value("Dispatch Technician", doc.assigned_tech, "legacy_staff_id")) or None
	now = int(time.time())
	values = changes(before.as_dict(), doc.as_dict(), on, s.time_zone or "America/Toronto", staff, now)
	if not values:
		return
	frappe.get_doc(
		{
			"doctype": OUTBOX,
			"legacy_ticket_id": doc.legacy_ticket_id,
			"dispatch_job": doc.name,
			"status": "Pending",
			"columns": ", ".join(values),
			"new_values": dump(values),
			"old_values": doc.legacy_record,
			"user": frappe.session.user,
		}
	).insert(ignore_permissions=True)
	if not frappe.flags.in_test:  # tests send when they choose (the queue is the bench's, shared)
		frappe.enqueue(SEND_METHOD, queue="short", enqueue_after_commit=True)


def pending(limit: int | None = None) -> list[dict]:
	return frappe.get_all(
		OUTBOX,
		filters={"status": "Pending"},
		fields=["name", "legacy_ticket_id", "dispatch_job", "columns", "new_values", "creation", "message"],
		order_by="creation asc",
		limit=limit,
	)


def send_pending() -> dict:
	"""Send every pending write-back, oldest ticket first; returns the count per outcome.

	While write-back is off, or the legacy server cannot be reached, the changes stay
	pending (the reason and the attempt are recorded) and are sent later."""
	counts = dict.fromkeys(("Sent", "Conflict", "Refused", "Superseded"), 0)
	tickets = list(dict.fromkeys(r.legacy_ticket_id for r in pending()))
	s = frappe.get_single(SETTINGS)
	if not tickets or not switches(s).any():
		return counts
	from legacy_dispatch.sync import load_settings  # sync imports this module

	try:
		with LegacyWriter(load_settings(s, form=False, writer=True)[0]) as writer:
			for ticket in tickets:
				for status, n in send_once(writer, ticket).items():
					counts[status] += n
	except LegacyError as e:
		frappe.db.rollback()
		wb = frappe.qb.DocType(OUTBOX)
		frappe.qb.update(wb).set(wb.attempts, wb.attempts + 1).set(
			wb.message, _("Waiting: {0}").format(e)
		).where(wb.status == "Pending").run()
		frappe.db.commit()  # nosemgrep
	return counts


def send_once(writer: LegacyWriter, ticket: str, tries: int = 3) -> dict:
	"""`send_ticket`, committed. When another sender changed the ticket's rows after this
	transaction began (PostgreSQL's repeatable read refuses the lock), or on a deadlock, it
	is tried again in a new transaction, which then sees what the other sender did."""
	for attempt in range(tries):
		try:
			out = send_ticket(writer, ticket)
			frappe.db.commit()  # nosemgrep
			return out
		except Exception as e:
			concurrent = isinstance(e, frappe.QueryDeadlockError) or getattr(e, "pgcode", None) == "40001"
			if not concurrent or attempt == tries - 1:
				raise
			frappe.db.rollback()


def send_ticket(writer: LegacyWriter, ticket: str) -> dict:
	"""One ticket's pending changes in one compare-and-set, under its job's row lock (a second
	sender waits, then finds nothing pending)."""
	job = frappe.db.get_value(
		"Dispatch Job", {"legacy_ticket_id": ticket}, ["name", "legacy_record"], as_dict=True, for_update=True
	)
	wb = frappe.qb.DocType(OUTBOX)
	rows = (
		frappe.qb.from_(wb)
		.select(wb.name, wb.new_values, wb.old_values, wb.attempts)
		.where((wb.legacy_ticket_id == ticket) & (wb.status == "Pending"))
		.orderby(wb.creation)
		.for_update()
		.run(as_dict=True)
	)
	if not rows:
		return {}
	values = merge([json.loads(r.new_values) for r in rows])
	expected = json.loads(rows[0].old_values or (job.legacy_record if job else None) or "null")
	last = rows[-1]
	if not expected:  # a job the bridge has not read since the upgrade
		frappe.db.set_value(OUTBOX, last.name, "message", _("Waiting for the next run to read the ticket."))
		return {}
	now = int(time.time())
	outcome, found = writer.compare_and_set(int(ticket), expected, values, now)
	if outcome in (SENT, ALREADY) and job:
		written = {**expected, **(found or {}), **{c: v for c, v in values.items() if c in TRACKED}}
		if "assign_to" in values:
			written["written_assign_to"] = values["assign_to"]
		frappe.db.set_value("Dispatch Job", job.name, "legacy_record", dump(written), update_modified=False)
	for r in rows[:-1]:
		frappe.db.set_value(OUTBOX, r.name, {"status": "Superseded", "superseded_by": last.name})
	frappe.db.set_value(
		OUTBOX,
		last.name,
		{
			"status": STATUS[outcome],
			"columns": ", ".join(values),
			"new_values": dump(values),
			"old_values": dump(expected),
			"legacy_values": dump(found) if found else None,
			"message": MESSAGES[outcome].translated(_),
			"finished": now_datetime(),
			"attempts": last.attempts + 1,
		},
	)
	return {STATUS[outcome]: 1, "Superseded": len(rows) - 1}


def enqueue_send() -> None:
	"""At a scheduler tick: send what is still pending (legacy was down, a worker died)."""
	if frappe.db.exists(OUTBOX, {"status": "Pending"}):
		frappe.enqueue(SEND_METHOD, queue="short")


def backlog(detail: bool = False) -> dict:
	"""What waits to be written back and since when; what was not written in the last day."""
	rows = pending()
	day_ago = add_to_date(now_datetime(), days=-1)
	out = {
		"enabled": switches(frappe.get_single(SETTINGS)).any(),
		"pending": len(rows),
		"since": rows[0].creation if rows else None,
		"message": rows[0].message if rows else None,
		"not_written": frappe.db.count(
			OUTBOX, {"status": ("in", ("Conflict", "Refused")), "modified": (">", day_ago)}
		),
	}
	if detail:
		out["detail"] = [{**r, "new_values": json.loads(r.new_values)} for r in rows[:200]]
	return out


def state(job) -> dict:
	"""For the Dispatch Job form: is its legacy ticket in step with what dispatch decided?"""
	ticket = job.legacy_ticket_id
	last = frappe.get_all(
		OUTBOX,
		filters={"legacy_ticket_id": ticket, "status": ("!=", "Superseded")},
		fields=["status", "columns", "message", "modified"],
		order_by="creation desc",
		limit=1,
	)
	return {
		"ticket": ticket,
		"writeback": bool(ticket and job.legacy_synced) and switches(frappe.get_cached_doc(SETTINGS)).any(),
		"pending": frappe.db.count(OUTBOX, {"legacy_ticket_id": ticket, "status": "Pending"}),
		"last": last[0] if last else None,
	}
