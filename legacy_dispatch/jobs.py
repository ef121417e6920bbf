"""A bridge job as dispatchers see it: who owns it, handing it back to the bridge, bringing
its ticket's values in now, and a deleted job's ticket never imported again."""

import time

import frappe
from frappe import _
from frappe.utils import format_datetime, now_datetime

from legacy_dispatch import writeback
from legacy_dispatch.core.legacy import LegacyError
from legacy_dispatch.core.mapping import MANAGED_FIELDS, Text, map_ticket
from legacy_dispatch.core.planner import Decision, Job, owner, plan, snapshot
from legacy_dispatch.health import SETTINGS
from legacy_dispatch.sync import (
	RunLog,
	apply,
	finish,
	load_directory,
	load_jobs,
	new_log,
	open_legacy,
	translated,
)

IGNORED = "Legacy Ignored Ticket"


def as_job(doc) -> Job:
	tech = doc.assigned_tech  # by name in reasons
	tech = tech and (frappe.db.get_value("Dispatch Technician", tech, "full_name") or tech)
	return Job(doc.name, doc.legacy_ticket_id, doc.as_dict(), tech, doc.legacy_synced)


def legacy_key(doc) -> str | None:
	"""The job's legacy ticket: legacy_ticket_id, or the Node service's LEG-<id>."""
	key = str(doc.legacy_ticket_id or "") or (doc.ticket_id or "").removeprefix("LEG-")
	return key if key.isdigit() and key != "0" else None  # an Int field (the Node one) holds 0


def track_owner(doc, method=None):
	"""doc_events on_update: after a dispatcher's save, record whether the bridge still keeps
	the job in step (legacy_in_step) and since when dispatch owns it. The bridge's own saves
	set both themselves (sync.write)."""
	if frappe.flags.in_legacy_sync or not doc.legacy_synced:
		return
	in_step = not owner(as_job(doc))
	if bool(doc.legacy_in_step) != in_step:
		since = None if in_step else now_datetime()
		doc.db_set({"legacy_in_step": int(in_step), "legacy_owned_since": since}, update_modified=False)


def backfill_in_step():
	"""after_migrate: jobs whose flag does not say who owns them (made before the flag), in
	one query."""
	for r in frappe.get_all(
		"Dispatch Job",
		filters={"legacy_synced": ("is", "set")},
		fields=["name", "assigned_tech", "legacy_synced", "legacy_in_step", "modified", *MANAGED_FIELDS],
	):
		in_step = not owner(Job(r.name, "", r, r.assigned_tech, r.legacy_synced))
		if bool(r.legacy_in_step) != in_step:
			since = None if in_step else r.modified
			values = {"legacy_in_step": int(in_step), "legacy_owned_since": since}
			frappe.db.set_value("Dispatch Job", r.name, values, update_modified=False)


def remember_deleted(doc, method=None):
	"""doc_events on_trash: a dispatcher deleting a bridge job means its ticket is noise; the
	bridge does not import it again until ops delete the Legacy Ignored Ticket."""
	key = legacy_key(doc)
	if not key or frappe.flags.in_legacy_sync or frappe.db.exists(IGNORED, key):
		return
	others = frappe.get_all(
		"Dispatch Job", filters={"legacy_ticket_id": key, "name": ("!=", doc.name)}, limit=1
	)
	if others:  # a duplicate removed: the ticket keeps its job
		return
	frappe.get_doc(
		{
			"doctype": IGNORED,
			"legacy_ticket_id": key,
			"subject": doc.subject,
			"dispatch_job": doc.name,
			"deleted_by": frappe.session.user,
			"deleted_on": now_datetime(),
		}
	).insert(ignore_permissions=True)


def ignored() -> dict[str, Text]:
	"""The tickets not to import again, with why (one plain query: every run reads it, and
	get_all's query builder costs a run's fresh worker a millisecond more)."""
	rows = frappe.db.sql(f"select `name`, `deleted_by`, `deleted_on` from `tab{IGNORED}`")
	return {name: Text("job deleted by {0} on {1}", by, format_datetime(on)) for name, by, on in rows}


def state(doc) -> dict:
	"""The Dispatch Job form's legacy line: who owns the job, the link to its ticket, and the
	write-back's state."""
	key = legacy_key(doc)
	if not key:
		return {}
	template = frappe.db.get_single_value(SETTINGS, "ticket_url")
	reason = owner(as_job(doc))
	return {
		"ticket": key,
		"url": template.replace("{id}", key) if template else None,
		"in_step": bool(doc.legacy_synced) and not reason,
		"adoptable": not doc.legacy_synced and not reason,
		"reason": translated(reason) if reason else None,
		"since": doc.legacy_owned_since,
		"can_hand_back": bool(reason) and not doc.assigned_tech and doc.status == "open",
		"writeback": writeback.state(doc),
	}


def hand_back(doc) -> None:
	"""The bridge takes the job over again: its current values become the record, so legacy
	changes flow in from the next run (or at once with `update_now`). Logged."""
	if doc.assigned_tech or doc.status != "open":
		frappe.throw(
			_(
				"The bridge keeps only open, unassigned jobs in step: unassign the technician and set the status back to open first."
			)
		)
	doc.db_set(
		{"legacy_synced": snapshot(doc.as_dict()), "legacy_in_step": 1, "legacy_owned_since": None},
		update_modified=False,
	)
	why = Text("handed back to the bridge by {0}", frappe.session.user)
	job_log([Decision(legacy_key(doc), "hand_back", why, doc.name, done=True)])


def update_now(doc) -> dict:
	"""Read the job's ticket now and apply it to this job alone, under the usual rules."""
	key = legacy_key(doc)
	try:
		source, config = open_legacy()
		with source:
			ticket = source.tickets_by_id([key]).get(int(key))
	except LegacyError as e:
		frappe.throw(str(e), title=_("Legacy database unreachable"))
	jobs = load_jobs([key], {key: [doc.name]})
	if ticket and ticket.status == "open" and str(ticket.assign_to) == str(config.staff_id):
		directory = load_directory({str(ticket.account_id)} if ticket.account_id else set())
		decisions = plan([map_ticket(ticket, config, directory)], jobs, {}, config.staff_id)
	else:
		decisions = plan([], jobs, {key: ticket}, config.staff_id)
	log = job_log(decisions, write=lambda: apply(decisions))
	d = decisions[0]
	changes = {k: str(v) if v is not None else None for k, v in d.changes.items()}
	return {"action": d.action, "reason": translated(d.reason), "changes": changes, "log": log}


def job_log(decisions: list[Decision], write=None) -> str:
	"""A Sync Log of an action taken from the job form, with its user."""
	started = time.monotonic()
	log = new_log("Job Form", None, status="Running")
	log.insert(ignore_permissions=True)
	if write:
		write()
	log.status = "Partial" if any(d.action == "error" for d in decisions) else "Success"
	log.message = translated(decisions[0].reason) if decisions else ""
	so_far = RunLog(log.name)
	so_far.add(decisions)
	finish(log, so_far, time.monotonic() - started)
	return log.name
