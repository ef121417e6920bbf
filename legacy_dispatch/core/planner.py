"""Plan what a run does (SPEC §5): create / update / cancel / leave, each with its reason.

`plan` never writes. Preview returns its result; a run computes the very same
plan and applies it, so the two cannot disagree.

No-clobber rule: each job carries what the bridge last wrote (`synced`). A job
whose managed fields still equal that record, with no technician assigned, is
untouched and follows the legacy ticket. Anything else belongs to the dispatcher.

A job with a legacy ticket but no such record (made by the old Node bridge, or by
hand) is adopted while it is still open and unassigned: its current values become
the record, then the same rules apply. Otherwise it stays the dispatcher's.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .mapping import MANAGED_FIELDS, Config, Directory, Mapped, Text, Ticket, map_ticket

CREATE, ADOPT, UPDATE, CANCEL = "create", "adopt", "update", "cancel"
UNCHANGED, SKIP, IGNORE, ERROR, NOT_DONE = "unchanged", "skip", "ignore", "error", "not_done"
WRITES = (CREATE, ADOPT, UPDATE, CANCEL)
COUNTS = {
	CREATE: "created",
	ADOPT: "adopted",
	UPDATE: "updated",
	CANCEL: "cancelled",
	UNCHANGED: "unchanged",
	SKIP: "skipped",
	IGNORE: "ignored",
	ERROR: "errors",
	NOT_DONE: "not_done",
}
COUNT_FIELDS = ("tickets", *COUNTS.values(), "unmatched_customer")
CLOSED_STATUSES = ("cancelled", "completed")
FLOAT_FIELDS = ("latitude", "longitude", "duration_h")
TRACKED = ("due_date", "due_time", "assign_to", "status")  # a ticket's columns in its `record`


@dataclass(slots=True)
class Job:
	"""An existing Dispatch Job with a legacy ticket, as stored on the site."""

	name: str
	legacy_ticket_id: str
	values: dict  # the managed fields as stored
	assigned_tech: str | None = None
	synced: str | None = None  # JSON of what the bridge last wrote (see `snapshot`)
	legacy: str | None = None  # JSON of the ticket as the bridge last read or wrote it (see `record`)


@dataclass(slots=True)
class Decision:
	legacy_ticket_id: str
	action: str
	reason: str
	job: str | None = None
	changes: dict = field(default_factory=dict)  # fields to write
	mapped: Mapped | None = None
	warnings: list[str] = field(default_factory=list)
	seen: str | None = None  # adopt: the job's values when planned (a change since means hands off)
	done: bool = False  # the write is committed
	legacy: str | None = None  # the ticket's new `record`, when it differs from the job's


def normalise(fieldname: str, value) -> str:
	"""One text form per stored value, whatever the site database returned."""
	if fieldname in FLOAT_FIELDS:
		return f"{float(value or 0):.6f}"
	if value is None:
		return ""
	if isinstance(value, datetime):
		value = value.date()
	if isinstance(value, date):
		return value.isoformat()
	if isinstance(value, timedelta):
		seconds = int(value.total_seconds())
		return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
	if isinstance(value, time):
		return value.strftime("%H:%M:%S")
	if fieldname == "start_time":  # "8:00:00" or "08:00:00.000000"
		h, m, s = [*str(value).split(".")[0].split(":"), "0", "0"][:3]
		return f"{int(h):02d}:{int(m):02d}:{int(s):02d}"
	return str(value)


def snapshot(values: dict) -> str:
	"""What the bridge wrote, stored on the job to detect a dispatcher's edit."""
	return json.dumps(
		{f: normalise(f, values.get(f)) for f in MANAGED_FIELDS}, ensure_ascii=False, sort_keys=True
	)


def record(ticket: Ticket, previous: str | None = None) -> str:
	"""The ticket's tracked columns as read, kept on its job: what a write-back compares
	against (core.writeback).

	`written_assign_to` is the staff id the bridge itself wrote back: a ticket still assigned
	to it stays the bridge's although it left the selection (see `tracked`). It is kept until
	legacy assigns the ticket to someone else."""
	values = {c: getattr(ticket, c) for c in TRACKED}
	written = json.loads(previous or "{}").get("written_assign_to")
	if written is not None and str(written) == str(ticket.assign_to):
		values["written_assign_to"] = written
	return json.dumps(values, ensure_ascii=False, sort_keys=True)


def tracked(ticket: Ticket, legacy_record: str | None) -> bool:
	"""Still open and assigned to the staff id the bridge wrote back (a technician's)."""
	written = json.loads(legacy_record or "{}").get("written_assign_to")
	return ticket.status == "open" and written is not None and str(written) == str(ticket.assign_to)


def diff(job_values: dict, wanted: dict) -> dict:
	return {f: v for f, v in wanted.items() if normalise(f, job_values.get(f)) != normalise(f, v)}


def owner(job: Job) -> str | None:
	"""Why the dispatcher owns this job, or None while the bridge may still change it
	(or, for a job without the bridge's record, adopt it)."""
	if job.assigned_tech:
		return Text("assigned to {0}", job.assigned_tech)
	if not job.synced:
		status = job.values.get("status")
		return None if status == "open" else Text("made outside the bridge, {0} by dispatch", status)
	written = json.loads(job.synced)
	edited = [f for f in MANAGED_FIELDS if normalise(f, job.values.get(f)) != written.get(f)]
	if edited:
		return Text("changed by a dispatcher: {0}", ", ".join(edited))
	return None


def plan_ticket(m: Mapped, job: Job | None) -> Decision:
	key = str(m.ticket.id)
	if not m.included:
		if job:
			return plan_gone(job, m.ticket, Text("department not included"))
		return Decision(
			key, SKIP, Text("department {0} not included", m.ticket.dept_id), mapped=m, warnings=m.warnings
		)
	if not job:
		return Decision(
			key, CREATE, Text("new open ticket"), changes=dict(m.fields), mapped=m, warnings=m.warnings
		)
	reason = owner(job)
	if reason:
		return Decision(key, SKIP, Text("left alone: {0}", reason), job.name, mapped=m, warnings=m.warnings)
	changes = diff(job.values, m.fields)
	if not job.synced:
		why = Text("taken over: legacy changed {0}", ", ".join(changes)) if changes else Text("taken over")
		return Decision(key, ADOPT, why, job.name, changes, m, m.warnings, snapshot(job.values))
	if not changes:
		return Decision(key, UNCHANGED, Text("up to date"), job.name, mapped=m, warnings=m.warnings)
	why = (
		Text("reopened in legacy")
		if changes.get("status") == "open"
		else Text("legacy changed: {0}", ", ".join(changes))
	)
	return Decision(key, UPDATE, why, job.name, changes, mapped=m, warnings=m.warnings)


def plan_gone(job: Job, ticket: Ticket | None, why: str | None = None) -> Decision:
	"""A job whose ticket left the selection: closed, reassigned, deleted or excluded."""
	if not why:
		if ticket is None:
			why = Text("ticket deleted in legacy")
		elif ticket.status != "open":
			why = Text("ticket {0} in legacy", ticket.status)
		else:
			why = Text("ticket reassigned in legacy (staff {0})", ticket.assign_to)
	reason = owner(job)
	if reason:
		return Decision(job.legacy_ticket_id, SKIP, Text("{0}; job kept, {1}", why, reason), job.name)
	if not job.synced:
		changes = {"status": "cancelled"}
		seen = snapshot(job.values)
		return Decision(
			job.legacy_ticket_id, ADOPT, Text("taken over: {0}", why), job.name, changes, seen=seen
		)
	if job.values.get("status") == "cancelled":
		return Decision(job.legacy_ticket_id, UNCHANGED, Text("{0}; already cancelled", why), job.name)
	return Decision(job.legacy_ticket_id, CANCEL, why, job.name, {"status": "cancelled"})


def plan(
	selected: Iterable[Mapped],
	jobs: dict[str, Job],
	gone: dict[str, Ticket | None],
	staff_id=None,
	ignored: dict[str, str] | None = None,
) -> list[Decision]:
	"""Decisions for the selected tickets, then for the active jobs whose ticket left.

	`ignored` maps the tickets whose job a dispatcher deleted to why: they get no new job.

	`gone` maps each such job's legacy ticket id to the ticket as it now stands
	in legacy (None when it no longer exists). A ticket there that is still open and
	assigned to `staff_id` was not read (a preview's row limit, or it came back between
	the two reads): its job is left for the next run, never cancelled.
	"""
	decisions = []
	for m in selected:
		key = str(m.ticket.id)
		job = jobs.get(key)
		if not job and key in (ignored or {}):
			why = Text("ignored: {0}", ignored[key])
			decisions.append(Decision(key, IGNORE, why, mapped=m, warnings=m.warnings))
			continue
		decisions.append(remember(plan_ticket(m, job), m.ticket, job))
	for key, ticket in gone.items():
		job = jobs.get(key)
		if not job:
			continue
		if ticket and ticket.status == "open" and str(ticket.assign_to) == str(staff_id):
			d = Decision(key, UNCHANGED, Text("still open in legacy, not read this time"), job.name)
		elif ticket and tracked(ticket, job.legacy):
			why = Text("assigned in legacy to staff {0} by the write-back", ticket.assign_to)
			reason = owner(job)
			if reason:
				d = Decision(key, SKIP, Text("left alone: {0}; {1}", reason, why), job.name)
			else:
				d = Decision(key, UNCHANGED, why, job.name)
		else:
			d = plan_gone(job, ticket)
		decisions.append(remember(d, ticket, job) if ticket else d)
	return decisions


def remember(d: Decision, ticket: Ticket, job: Job | None) -> Decision:
	"""Carry the ticket's new record, when the job's differs."""
	new = record(ticket, job.legacy if job else None)
	if not job or new != job.legacy:
		d.legacy = new
	return d


def active(job: Job) -> bool:
	return job.values.get("status") not in CLOSED_STATUSES


def gone_keys(jobs: dict[str, Job], selected_keys: set[str]) -> list[str]:
	"""Active jobs whose ticket is no longer selected: to be looked up in legacy by id."""
	return sorted(k for k, j in jobs.items() if k not in selected_keys and active(j))


def build_plan(
	source,
	config: Config,
	jobs: dict[str, Job],
	directory: Directory | Callable[[set[str]], Directory],
	ignored: dict[str, str] | None = None,
) -> list[Decision]:
	"""Read the selection from `source` (a LegacyDB or any object with the same two
	methods), look up the tickets of active jobs that left it, and plan.

	`directory` is a Directory, or a function that returns the one for the selection's
	account ids (so the site loads only the customers the selection needs)."""
	tickets = list(source.open_tickets(config.staff_id))
	if callable(directory):
		directory = directory({str(t.account_id) for t in tickets if t.account_id})
	selected = [map_ticket(t, config, directory) for t in tickets]
	keys = gone_keys(jobs, {str(m.ticket.id) for m in selected})
	found = source.tickets_by_id(k for k in keys if k.isdigit())
	gone = {k: found.get(int(k)) if k.isdigit() else None for k in keys}
	return plan(selected, jobs, gone, config.staff_id, ignored)


def not_done(decisions: list[Decision]) -> None:
	"""After a failed run: the planned writes that were never committed are reported as such."""
	for d in decisions:
		if d.action in WRITES and not d.done:
			d.action, d.reason = NOT_DONE, Text("not written, the run stopped first: {0}", d.reason)


def renamed(synced: str | None, fieldname: str, old: str, new: str) -> str | None:
	"""The bridge's record after a linked record was renamed from `old` to `new` (the site
	rewrote the job's link itself), or None when the record does not hold `old`."""
	written = json.loads(synced or "{}")
	if written.get(fieldname) != old:
		return None
	return json.dumps({**written, fieldname: new}, ensure_ascii=False, sort_keys=True)


def unmatched(decisions: list[Decision]) -> list[Decision]:
	"""Tickets of a legacy account that no single Customer claims (ignored ones aside)."""
	return [
		d
		for d in decisions
		if d.mapped and d.action != IGNORE and d.mapped.customer_match in ("unmatched", "ambiguous")
	]


def summary(decisions: list[Decision]) -> dict:
	"""The run's counts (COUNT_FIELDS) and the legacy accounts no Customer claims."""
	counts = dict.fromkeys(COUNTS.values(), 0)
	for d in decisions:
		if d.action in COUNTS:  # an action on one job (a hand-back) is no count
			counts[COUNTS[d.action]] += 1
	missing = unmatched(decisions)
	return {
		"tickets": len(decisions),
		**counts,
		"unmatched_customer": len(missing),
		"unmatched_accounts": sorted({d.mapped.ticket.account_id for d in missing}),
	}
