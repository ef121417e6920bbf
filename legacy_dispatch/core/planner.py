"""Plan what a run does (SPEC §5): create / update / cancel / leave, each with its reason.

`plan` never writes. Preview returns its result; a run computes the very same
plan and applies it, so the two cannot disagree.

No-clobber rule: each job carries what the bridge last wrote (`synced`). A job
whose managed fields still equal that record, with no technician assigned, is
untouched and follows the legacy ticket. Anything else belongs to the dispatcher.

A job with a legacy ticket but no such record (made by the old Node bridge, or by
hand) is adopted while it is still open and unassigned: its current values become
the record, then the same rules apply. Otherwise it stays the dispatcher's.

A run plans in chunks (`plan_chunks`) and may skip the work for a ticket whose job holds a
*fingerprint* (`settled`): a digest of everything planning that ticket reads — the code and
settings, the ticket as read, its account's customers and their locations, the job as
stored — taken when planning it in full found it up to date with nothing to write, warn or
report. The same digest now means the full plan would decide the same; anything else,
however small, plans it in full.
"""

import hashlib
import json
import marshal
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytz

from .mapping import MANAGED_FIELDS, Config, Directory, Mapped, Text, Ticket, map_ticket, match_customer

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
CHUNK = 1000  # tickets a run plans (and applies) at a time
UNMATCHED = ("unmatched", "ambiguous")
# the code a fingerprint vouches for: another version of it plans every ticket in full again
CODE = hashlib.blake2b(
	b"".join((Path(__file__).parent / f).read_bytes() for f in ("mapping.py", "planner.py")), digest_size=8
).hexdigest()


@dataclass(slots=True)
class Job:
	"""An existing Dispatch Job with a legacy ticket, as stored on the site."""

	name: str
	legacy_ticket_id: str
	values: dict  # the managed fields as stored (from sync.load_jobs: dates, times, numbers as text)
	assigned_tech: str | None = None
	synced: str | None = None  # JSON of what the bridge last wrote (see `snapshot`)
	legacy: str | None = None  # JSON of the ticket as the bridge last read or wrote it (see `record`)
	digest: str | None = None  # its fingerprint, when it was last found settled (see `settled`)


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
	inputs: tuple | None = None  # planned in full: what the mapping read (see `Inputs`)
	digest: str | None = None  # a fingerprint to store on the job, which is settled (see `settled`)
	account: int | str | None = None  # not mapped (settled): its account, when no Customer claims it


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
	"""Decisions for the selected tickets, then for the active jobs whose ticket left (see
	`plan_left`). `ignored` maps the tickets whose job a dispatcher deleted to why: they get
	no new job."""
	decisions = []
	for m in selected:
		job = jobs.get(str(m.ticket.id))
		decisions.append(ignore(m.ticket, job, ignored, m) or remember(plan_ticket(m, job), m.ticket, job))
	return decisions + plan_left(gone, jobs, staff_id)


def ignore(ticket: Ticket, job: Job | None, ignored: dict[str, str] | None, m: Mapped | None = None):
	"""The decision for a ticket whose deleted job must not come back, else None."""
	key = str(ticket.id)
	if job or key not in (ignored or {}):
		return None
	return Decision(
		key, IGNORE, Text("ignored: {0}", ignored[key]), mapped=m, warnings=m.warnings if m else []
	)


def plan_left(gone: dict[str, Ticket | None], jobs: dict[str, Job], staff_id=None) -> list[Decision]:
	"""Decisions for the active jobs whose ticket left the selection.

	`gone` maps each such job's legacy ticket id to the ticket as it now stands
	in legacy (None when it no longer exists). A ticket there that is still open and
	assigned to `staff_id` was not read (a preview's row limit, or it came back between
	the two reads): its job is left for the next run, never cancelled.
	"""
	decisions = []
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


def build_plan(
	source,
	config: Config,
	jobs: dict[str, Job],
	directory: Directory | Callable[[set[str]], Directory],
	ignored: dict[str, str] | None = None,
	fast: bool = False,
) -> list[Decision]:
	"""Read the selection from `source` (a LegacyDB or any object with the same two
	methods), look up the tickets of active jobs that left it, and plan, in one piece.

	`directory` is a Directory, or a function that returns the one for the selection's
	account ids (so the site loads only the customers the selection needs). With `fast`,
	a settled ticket is not planned again in full (see `settled`)."""
	tickets, gone = read(source, config, [k for k, j in jobs.items() if active(j)])
	if callable(directory):
		directory = directory(accounts_of(tickets))
	size = max(len(tickets), len(gone), 1)
	chunks = plan_chunks(tickets, gone, config, lambda keys: jobs, directory, fast, size, ignored)
	return [d for chunk in chunks for d in chunk]


def accounts_of(tickets: list[Ticket]) -> set[str]:
	"""The legacy account ids of these tickets: whose customers and locations planning reads."""
	return {str(t.account_id) for t in tickets if t.account_id}


def read(source, config: Config, active_keys: Iterable[str]) -> tuple[list[Ticket], dict[str, Ticket | None]]:
	"""All a run reads of legacy, before anything is written: the selection, then the
	tickets of the active jobs (`active_keys`) that left it, as they now stand (None when
	deleted)."""
	tickets = list(source.open_tickets(config.staff_id))
	selected = {str(t.id) for t in tickets}
	keys = sorted(k for k in active_keys if k not in selected)
	found = source.tickets_by_id(k for k in keys if k.isdigit())
	return tickets, {k: found.get(int(k)) if k.isdigit() else None for k in keys}


def plan_chunks(
	tickets: list[Ticket],
	gone: dict[str, Ticket | None],
	config: Config,
	jobs_for: Callable[[list[str]], dict[str, Job]],
	directory: Directory,
	fast: bool = True,
	size: int = CHUNK,
	ignored: dict[str, str] | None = None,
) -> Iterator[list[Decision]]:
	"""The plan of `read`'s result, `size` tickets at a time, in the order of `plan`: each
	chunk gets the jobs of its ticket ids (`jobs_for`), so what is held does not grow with
	the selection (`directory`: the customers of its accounts, see `accounts_of`). With `fast`,
	a ticket whose job's fingerprint still holds is up to date without being mapped.
	`ignored`: as in `plan`."""
	read_now = Inputs(config, directory)
	for start in range(0, len(tickets), size):
		chunk = tickets[start : start + size]
		jobs = jobs_for([str(t.id) for t in chunk])
		yield plan_chunk(chunk, jobs, config, directory, read_now, fast, ignored)
	keys = list(gone)
	for start in range(0, len(keys), size):
		part = {k: gone[k] for k in keys[start : start + size]}
		yield plan_left(part, jobs_for(list(part)), config.staff_id)


def plan_chunk(
	tickets: list[Ticket],
	jobs: dict[str, Job],
	config: Config,
	directory: Directory,
	read_now: "Inputs",
	fast: bool,
	ignored: dict[str, str] | None = None,
) -> list[Decision]:
	decisions = []
	for t in tickets:
		key = str(t.id)
		job = jobs.get(key)
		if ignored and not job and key in ignored:
			decisions.append(ignore(t, job, ignored, map_ticket(t, config, directory)))
			continue
		inputs, unclaimed = read_now(t)
		if fast and job and job.digest and job.digest == fingerprint(inputs, job):
			decisions.append(  # an account no Customer claims is counted, as when it settled
				Decision(key, UNCHANGED, UP_TO_DATE, job.name, account=t.account_id if unclaimed else None)
			)
			continue
		d = remember(plan_ticket(map_ticket(t, config, directory), job), t, job)
		d.inputs = inputs
		if job:
			new = settled(d, job)
			d.digest = new if new != job.digest else None
		decisions.append(d)
	return decisions


# --- fingerprints -------------------------------------------------------------------------


def serial(value) -> bytes:
	"""`value` as bytes that differ whenever it does: marshal's format 2, which writes no
	references (equal values, equal bytes) and is stable across Python versions; for a type it
	does not take (a custom query's Decimal, say), "r" (no format-2 type code) and the repr."""
	try:
		return marshal.dumps(value, 2)
	except ValueError:
		return b"r" + repr(value).encode()


def digest(value) -> str:
	"""SHA-256 (of hashlib's digests the fastest on a CPU with SHA instructions) of `serial`."""
	return hashlib.sha256(serial(value)).hexdigest()


TICKET = operator.attrgetter(*Ticket.__slots__)  # a Ticket's fields, as a tuple
UP_TO_DATE = Text("up to date")


class Inputs:
	"""What `map_ticket` reads for a ticket: the code and settings it depends on (not the staff
	id: it only chooses the selection), the ticket as read, the customers claiming its account
	and their locations. An account's part is written once per run."""

	def __init__(self, config: Config, directory: Directory):
		departments = sorted(config.departments.items())
		durations = sorted(config.durations.items())
		self.key = digest((CODE, pytz.__version__, config.time_zone, departments, durations))
		self.directory, self.accounts = directory, {}

	def account(self, ticket: Ticket) -> tuple[bytes, bool]:
		"""The account's part, and whether no Customer (or more than one) claims it."""
		account_id, places = ticket.account_id, self.directory.locations
		names = sorted(self.directory.customers.get(str(account_id), ())) if account_id else []
		part = serial([(n, sorted(map(tuple, places.get(n, ())))) for n in names])
		return part, match_customer(ticket, self.directory, [])[1] in UNMATCHED

	def __call__(self, ticket: Ticket) -> tuple[tuple, bool]:
		"""The ticket's inputs, and whether its account is unclaimed (see `account`)."""
		part = self.accounts.get(ticket.account_id)
		if part is None:
			part = self.accounts[ticket.account_id] = self.account(ticket)
		return (self.key, TICKET(ticket), part[0]), part[1]


def fingerprint(inputs: tuple, job: Job) -> str:
	"""A digest of `inputs` and all `plan_ticket` and `remember` read of the job, as stored."""
	values = tuple(map(job.values.get, MANAGED_FIELDS))
	return digest((inputs, job.name, job.assigned_tech, values, job.synced, job.legacy))


def settled(d: Decision, job: Job) -> str | None:
	"""The job's fingerprint when `d`, its ticket planned in full against the job as it is,
	leaves nothing to do, warn or report: up to date, the record kept, no warning (an account
	that no Customer claims is counted from the directory: see `plan_chunk`). None otherwise:
	that ticket is planned in full."""
	m = d.mapped
	if d.action != UNCHANGED or d.legacy or not d.inputs or not m or m.warnings:
		return None
	return fingerprint(d.inputs, job)


def recheck(d: Decision, job: Job) -> str | None:
	"""After `d` was written: the fingerprint of its job as now stored, when planning the
	ticket again would find it settled."""
	if not d.mapped or not d.inputs:
		return None
	again = remember(plan_ticket(d.mapped, job), d.mapped.ticket, job)
	again.inputs = d.inputs
	return settled(again, job)


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


def outcome(d: Decision) -> tuple:
	"""What a run writes, counts and logs of a decision: two plans with the same outcomes
	are the same plan. (The matches of a ticket up to date without warnings are in no log
	row; its account only counts when unmatched.)"""
	m = d.mapped
	shown = m and (d.action != UNCHANGED or d.warnings)
	return (
		d.legacy_ticket_id,
		d.action,
		str(d.reason),
		d.job,
		repr(sorted(d.changes.items())),
		[str(w) for w in d.warnings],
		d.legacy,
		d.seen,
		(m.customer_match, m.location_match) if shown else None,
		unmatched_account(d),
	)


def unmatched_account(d: Decision) -> int | str | None:
	"""The ticket's legacy account, when no single Customer claims it."""
	m = d.mapped
	return m.ticket.account_id if m and m.customer_match in UNMATCHED else d.account


def unmatched(decisions: list[Decision]) -> list[Decision]:
	"""Tickets of a legacy account that no single Customer claims (ignored ones aside)."""
	return [d for d in decisions if d.action != IGNORE and unmatched_account(d)]


def summary(decisions: list[Decision], before: dict | None = None) -> dict:
	"""The run's counts (COUNT_FIELDS) and the legacy accounts no Customer claims; added to
	`before`, the summary of the chunks planned before these."""
	before = before or {f: 0 for f in COUNT_FIELDS}
	actions = Counter(d.action for d in decisions)  # an action on one job (a hand-back) is no count
	counts = {f: before[f] + actions[action] for action, f in COUNTS.items()}
	missing = unmatched(decisions)
	return {
		"tickets": before["tickets"] + len(decisions),
		**counts,
		"unmatched_customer": before["unmatched_customer"] + len(missing),
		"unmatched_accounts": sorted(
			{*before.get("unmatched_accounts", ()), *map(unmatched_account, missing)}
		),
	}
