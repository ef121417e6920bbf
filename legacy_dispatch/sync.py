"""The Frappe side of the bridge: load the site's state in bulk, plan with the core,
apply the plan through the ORM, log the run.

The decisions themselves come from legacy_dispatch.core, which knows nothing of Frappe;
this module turns them into documents.
"""

import gc
import os
import socket
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from math import gcd

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, flt, format_datetime, get_datetime, now_datetime

from legacy_dispatch import writeback
from legacy_dispatch.core.legacy import Connection, LegacyDB, LegacyError
from legacy_dispatch.core.mapping import MANAGED_FIELDS, Config, Department, Directory, Location, Text, Ticket
from legacy_dispatch.core.planner import (
	ADOPT,
	CLOSED_STATUSES,
	COUNT_FIELDS,
	CREATE,
	ERROR,
	FLOAT_FIELDS,
	SKIP,
	UNCHANGED,
	WRITES,
	Decision,
	Job,
	accounts_of,
	build_plan,
	not_done,
	owner,
	plan_chunks,
	read,
	recheck,
	renamed,
	snapshot,
	summary,
)
from legacy_dispatch.core.sources import open_source
from legacy_dispatch.health import SETTINGS, alert_if_failing

SCHEDULED_METHOD = "legacy_dispatch.sync.scheduled"
JOB_ID = "legacy_dispatch_sync"  # one id for scheduler and button: never two runs queued
JOB_TIMEOUT = 3600
RUN_LOCK = "legacy_dispatch"  # value of Sync Log.run_lock (unique) while a run is in progress
STALE_AFTER_MINUTES = 15  # a Running log with no heartbeat for this long belongs to a dead run
COMMIT_EVERY = 200
DURATION_FIELDS = {
	"Installation": "duration_installation",
	"Réparation": "duration_reparation",
	"Maintenance": "duration_maintenance",
	"Retrait": "duration_retrait",
	"Dépannage": "duration_depannage",
	"Autre": "duration_autre",
}


# --- settings and site state -------------------------------------------------------------


class NotReady(frappe.ValidationError):
	"""The site lacks what the bridge's guarantees rest on; the message says how to repair it."""


def load_settings(s=None, form: bool | None = None, writer: bool = False) -> tuple[Connection, Config]:
	"""The core's connection and config from the settings (or from a form's unsaved copy);
	the write-back's user and password instead of the reader's with `writer`.

	A stored password is only ever sent to the stored host and port: a form pointing
	elsewhere must type the password again."""
	form = s is not None if form is None else form
	s = s or frappe.get_single(SETTINGS)
	host, port = s.host or "127.0.0.1", cint(s.port) or 3306
	user, field = (s.writeback_user, "writeback_password") if writer else (s.user, "password")
	typed = s.get(field) and set(s.get(field)) != {"*"}  # a form sends asterisks for a stored password
	if form and not typed:
		stored = frappe.db.get_values_from_single(["host", "port"], None, SETTINGS)[0]
		if (host, port) != (stored[0] or "127.0.0.1", cint(stored[1]) or 3306):
			raise LegacyError(
				_(
					"Type the password again to connect to {0}:{1}: the stored password is only sent to the stored server."
				).format(host, port)
			)
	conn = Connection(
		host=host,
		port=port,
		user=user or "",
		password=s.get(field) if typed else s.get_password(field, raise_exception=False) or "",
		database=s.database or "gestionclient",
		connect_timeout=cint(s.connect_timeout) or 10,
		read_timeout=cint(s.read_timeout) or None,
		tls=bool(s.tls),
		tls_ca=s.tls_ca or None,
		tls_verify=bool(s.tls_verify),
	)
	departments = {
		cint(r.dept_id): Department(
			cint(r.dept_id), r.dept_name or "", r.job_type, flt(r.duration_h) or None, bool(r.included)
		)
		for r in s.departments
	}
	durations = {job_type: flt(s.get(fieldname)) for job_type, fieldname in DURATION_FIELDS.items()}
	config = Config(cint(s.staff_id) or 3301, s.time_zone or "America/Toronto", departments, durations)
	return conn, config


JOB_FIELDS = ("name", "ticket_id", "legacy_ticket_id", "assigned_tech", "legacy_synced", "legacy_record")


def job_rows(
	keys: list[str] | None = None,
	fields=(*JOB_FIELDS, "legacy_digest", *MANAGED_FIELDS),
	nodes: list[str] = (),
) -> list[tuple]:
	"""The jobs of these legacy ticket ids and the jobs named in `nodes`, or every job with a
	legacy ticket when `keys` is None, as tuples of `fields` (which start with JOB_FIELDS[:3]).

	Every job includes the ones the old Node bridge created (only `ticket_id` LEG-<id>): the
	bridge never duplicates them, and adopts those still open and unassigned (see
	core.planner). Found by ticket id they are not (`ticket_id` has no index): `job_index`
	names them."""
	if keys is None:
		where = "(`legacy_ticket_id` is not null and `legacy_ticket_id` != '') or `ticket_id` like 'LEG-%%'"
	elif keys or nodes:  # parameters as one tuple each: no builder term per value
		where = "`legacy_ticket_id` in %(keys)s" + (" or `name` in %(nodes)s" if nodes else "")
	else:
		return []
	return frappe.db.sql(
		f"select {', '.join(map(as_text, fields))} from `tabDispatch Job` where {where}",
		{"keys": tuple(keys or ()) or ("",), "nodes": tuple(nodes)},
	)


TEXT_FIELDS = (*FLOAT_FIELDS, "scheduled_date", "start_time")  # the typed managed fields


def as_text(fieldname: str) -> str:
	"""A job column as selected: the dates, times and numbers as the database's own text, which
	the planner normalises like the typed values and fingerprints without formatting them."""
	if fieldname not in TEXT_FIELDS:
		return f"`{fieldname}`"
	return f"`{fieldname}`::text" if frappe.db.db_type == "postgres" else f"cast(`{fieldname}` as char)"


def keyed(rows: list[tuple]) -> dict[str, tuple]:
	"""Each job row under its legacy ticket id; the bridge's own job wins over a Node one."""
	out = {}
	for r in sorted(rows, key=lambda r: bool(r[2])):  # (name, ticket_id, legacy_ticket_id, …)
		key = r[2] or r[1].removeprefix("LEG-")
		if key.isdigit() or r[2]:
			out[key] = r
	return out


def load_jobs(keys: list[str] | None = None, nodes: dict[str, list[str]] | None = None) -> dict[str, Job]:
	"""The jobs of these legacy ticket ids (all of them when None), in one query; `nodes`:
	the Node bridge's jobs by ticket id, from `job_index`."""
	names = [n for k in keys or () for n in (nodes or {}).get(k, ())]
	rows = keyed(job_rows(keys, nodes=names))
	techs = titles("Dispatch Technician", "full_name", {r[3] for r in rows.values()})  # by name in reasons
	return {
		key: Job(
			r[0], key, dict(zip(MANAGED_FIELDS, r[7:], strict=True)), techs.get(r[3], r[3]), r[4], r[5], r[6]
		)
		for key, r in rows.items()
	}


def job_index() -> tuple[list[str], dict[str, list[str]]]:
	"""One narrow query over the jobs with a legacy ticket: the ticket ids of the active ones
	(not cancelled or completed: those whose ticket left the selection are looked up in
	legacy), and the Node bridge's jobs by ticket id (to be loaded by name)."""
	rows = job_rows(None, (*JOB_FIELDS[:3], "status"))
	nodes: dict[str, list[str]] = {}
	for name, ticket_id, legacy_ticket_id, _status in rows:
		if not legacy_ticket_id and ticket_id.removeprefix("LEG-").isdigit():
			nodes.setdefault(ticket_id.removeprefix("LEG-"), []).append(name)
	return [key for key, r in keyed(rows).items() if r[3] not in CLOSED_STATUSES], nodes


def load_directory(accounts: set[str]) -> Directory:
	"""The Customers of these legacy account ids and their service locations. On PostgreSQL
	one query, a hash join, the accounts sent as one array (a list of 10,000 values costs
	more to send and parse than the join). On MariaDB, where the locations' `customer` has no
	index and a join would scan them once per few customers, two: the locations by a
	subquery on the claiming customers."""
	if not accounts:
		return Directory()
	if frappe.db.db_type == "postgres":
		rows = frappe.db.sql(
			"select c.`name`, c.`legacy_account_id`, l.`customer`, l.`name`, l.`city`,"
			" l.`latitude`::float8, l.`longitude`::float8 from `tabCustomer` c"  # floats without a Python cast
			" left join `tabService Location` l on l.`customer` = c.`name`"
			" where c.`legacy_account_id` = any(%s::text[])",
			[pg_array(accounts)],
		)
	else:
		values = {"accounts": tuple(accounts)}
		claims = "from `tabCustomer` c where c.`legacy_account_id` in %(accounts)s"
		rows = frappe.db.sql(
			f"select c.`name`, c.`legacy_account_id`, null, null, null, null, null {claims}", values
		)
		rows += frappe.db.sql(
			"select null, null, `customer`, `name`, `city`, `latitude`, `longitude` from `tabService Location`"
			f" where `customer` in (select c.`name` {claims})",
			values,
		)
	customers: dict[str, list[str]] = {}
	locations: dict[str, list[Location]] = {}
	for name, account_id, customer, place, city, latitude, longitude in rows:
		if name and name not in locations:  # a customer with several locations is in several rows
			customers.setdefault(str(account_id).strip(), []).append(name)
			locations[name] = []
		if customer:  # one of the customers above
			locations[customer].append(Location(place, city, latitude, longitude))
	return Directory(customers, locations)


def pg_array(values) -> str:
	"""A PostgreSQL array literal of these strings, each quoted (one parameter, not one per value)."""
	return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def open_legacy(settings=None, preview: bool = False) -> tuple[LegacyDB, Config]:
	"""The legacy source of the chosen profile (use it as a context manager) and the
	mapping config. A preview of a custom query reads at most its row limit."""
	s = settings or frappe.get_single(SETTINGS)
	conn, config = load_settings(s, form=settings is not None)
	options = {f: s.get(f) for f in ("table_prefix", "assignee", "customer_key")}
	options.update(query=s.custom_query, row_limit=cint(s.row_limit) if preview else None)
	return open_source(s.source_profile, conn, options), config


def schema_problems() -> list[str]:
	"""What is missing of the bridge's guarantees on Dispatch Job: the unique index on
	legacy_ticket_id (one ticket, one job) and the legacy_synced column (no clobbering)."""
	table = "tabDispatch Job"
	if frappe.db.db_type == "postgres":  # the catalog itself: information_schema takes milliseconds
		columns = frappe.db.sql(
			"SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
			f'"{table}"',
			pluck=True,
		)
		unique = any(
			d.rstrip().endswith("(legacy_ticket_id)")
			for d in frappe.db.sql(
				"SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = to_regclass(%s) AND indisunique",
				f'"{table}"',
				pluck=True,
			)
		)
	else:
		keys = dict(
			frappe.db.sql(
				"SELECT column_name, column_key FROM information_schema.columns"
				" WHERE table_schema = DATABASE() AND table_name = %s",
				table,
			)
		)
		columns, unique = list(keys), keys.get("legacy_ticket_id") == "UNI"
	repair = _(
		"Repair: run `bench --site {0} migrate`, which puts the app's fields back and names any duplicated legacy ticket."
	).format(frappe.local.site)
	problems = []
	if "legacy_ticket_id" not in columns or not unique:
		problems.append(
			_("Dispatch Job.legacy_ticket_id has no unique index: a ticket could get two jobs.")
			+ " "
			+ repair
		)
	if "legacy_synced" not in columns:
		problems.append(
			_("Dispatch Job.legacy_synced is missing: the bridge cannot tell a dispatcher's edit.")
			+ " "
			+ repair
		)
	if "legacy_record" not in columns:
		problems.append(
			_("Dispatch Job.legacy_record is missing: the bridge cannot keep what it read of a ticket.")
			+ " "
			+ repair
		)
	return problems


def read_legacy() -> tuple[list[Ticket], dict[str, Ticket | None], Config, Callable, Directory]:
	"""All a run reads of legacy (core.planner.read), before anything is written: a legacy
	database that fails mid-read leaves the site untouched; how to load the jobs of a chunk;
	the customers of the selection's accounts. Refuses (NotReady) on a site without the
	bridge's guarantees."""
	problems = schema_problems()
	if problems:
		raise NotReady(" ".join(problems))
	source, config = open_legacy()
	active, nodes = job_index()
	with source:
		tickets, gone = read(source, config, active)
	return tickets, gone, config, lambda keys: load_jobs(keys, nodes), load_directory(accounts_of(tickets))


def plan_now(preview: bool = False) -> list[Decision]:
	"""Read the legacy selection and the site's state, and plan. Writes nothing.

	The whole plan, every ticket planned in full (a run plans the same, in chunks: see
	`run`). Refuses (NotReady) on a site without the bridge's guarantees."""
	problems = schema_problems()
	if problems:
		raise NotReady(" ".join(problems))
	from legacy_dispatch.jobs import ignored  # jobs imports this module

	source, config = open_legacy(preview=preview)
	with source:
		return build_plan(source, config, load_jobs(), load_directory, ignored())


# --- applying the plan --------------------------------------------------------------------


def write(d: Decision, found: set[tuple[str, str]]) -> str:
	"""Apply one decision; returns the job's name. Raises on anything the site refuses.

	`found`: the linked records of its batch that exist (see `found_links`)."""
	if d.action == CREATE:
		doc = frappe.get_doc(  # insert sets the defaults: not new_doc, which would set them twice
			{
				"doctype": "Dispatch Job",
				**d.changes,
				"legacy_ticket_id": d.legacy_ticket_id,
				"legacy_record": d.legacy,
				"legacy_in_step": 1,
			}
		)
		doc.dont_update_if_missing = list(MANAGED_FIELDS)  # an empty Time must stay empty, not "now"
		doc.legacy_synced = snapshot(doc)
		doc.flags.ignore_links = links_found(doc, d.changes, found)
		doc.insert(ignore_permissions=True)
		return doc.name
	# adopt / update / cancel: lock the row and look again, so a dispatcher's save that
	# landed after the plan was made wins
	doc = frappe.get_doc("Dispatch Job", d.job, for_update=True)
	job = Job(doc.name, d.legacy_ticket_id, doc, doc.assigned_tech, doc.legacy_synced)  # a doc has .get
	reason = owner(job)
	if not reason and d.action == ADOPT and (job.synced or snapshot(job.values) != d.seen):
		reason = Text("changed by a dispatcher")
	if reason:
		d.action, d.reason = SKIP, Text("left alone: {0} (during this run)", reason)
		return doc.name
	doc.update(d.changes)
	doc.legacy_ticket_id = d.legacy_ticket_id  # an adopted job may have had only LEG-<id>
	doc.legacy_record = d.legacy or doc.legacy_record
	doc.legacy_in_step, doc.legacy_owned_since = 1, None
	doc.legacy_synced = snapshot(doc)
	doc.flags.ignore_links = links_found(doc, d.changes, found)
	doc.save(ignore_permissions=True)
	if d.changes.get("status") == "cancelled":  # say why on the job's timeline
		doc.add_comment(
			"Info",
			_("Cancelled by the legacy bridge on {0}: {1}").format(
				format_datetime(now_datetime()), translated(d.reason)
			),
		)
	if snapshot(doc) != doc.legacy_synced:  # the site changed a value on save
		doc.db_set("legacy_synced", snapshot(doc), update_modified=False)
	return doc.name


def found_links(batch: list[Decision]) -> set[tuple[str, str]]:
	"""The records the batch's writes link to that exist, as (doctype, name): one query per
	linked doctype, where Frappe's save looks up each link of each job (see `links_found`)."""
	wanted: dict[str, set[str]] = {}
	for df in frappe.get_meta("Dispatch Job").get_link_fields():
		wanted.setdefault(df.options, set()).update(
			d.changes[df.fieldname] for d in batch if d.changes.get(df.fieldname)
		)
	return {
		(doctype, name)
		for doctype, names in wanted.items()
		if names
		for name in frappe.db.sql(
			f"select `name` from `tab{doctype}` where `name` in %s", [tuple(names)], pluck=True
		)
	}


def links_found(doc, changes: dict, found: set[tuple[str, str]]) -> bool:
	"""Whether the save may skip Frappe's lookup of each link (`ignore_links`): each link the
	write sets was found (`found_links`), the others are as they were (or the defaults), and
	no lookup has more to do: no value fetched through a link (`fetch_from`), no submittable
	job (a link to a cancelled record). Otherwise Frappe looks them up, and refuses a missing
	one as usual."""
	meta = doc.meta
	if meta.is_submittable or any(df.fetch_from for df in meta.fields):
		return False
	return all(
		(df.options, changes[df.fieldname]) in found
		for df in meta.get_link_fields()
		if changes.get(df.fieldname)
	)


def apply(decisions: list[Decision], so_far: "RunLog | None" = None) -> None:
	"""Write the decisions in batches of COMMIT_EVERY, each under one savepoint and committed;
	the last batch is committed with the decisions' Sync Log rows when a run logs them
	(`so_far`). A batch the site refuses is rolled back and written again one ticket per
	savepoint: the refused ticket alone is recorded with the reason, and the run goes on. The
	fingerprint of each job the writes left settled (core.planner.settled) goes in with its batch.

	The bridge's own saves are flagged, so they never go to the write-back outbox."""
	kept = [d for d in decisions if d.legacy and d.job and d.action not in WRITES]
	for d in kept:  # the ticket changed in legacy, its job does not: keep what was read
		frappe.db.set_value("Dispatch Job", d.job, "legacy_record", d.legacy, update_modified=False)
	digests = {d.job: d.digest for d in decisions if d.digest and d.action not in WRITES}
	store_digests(digests)
	if kept or digests:
		frappe.db.commit()  # nosemgrep: not held through the writes, a dispatcher may be saving these jobs
	writes = [d for d in decisions if d.action in WRITES]
	frappe.flags.in_legacy_sync = True
	try:
		write_all(writes, so_far or RunLog(None, len(decisions)))
	finally:
		frappe.flags.in_legacy_sync = False
	if so_far:
		so_far.add(decisions)
	else:
		commit(writes)


def commit(decisions: list[Decision]) -> None:
	frappe.db.commit()  # nosemgrep
	for d in decisions:
		if d.action in WRITES:
			d.done = True


def settle(written: list[Decision]) -> None:
	"""Fingerprint the written jobs that are now settled, read back as the next run reads them
	(in the transaction that wrote them)."""
	if not written:
		return
	by_key = {d.legacy_ticket_id: d for d in written}
	jobs = load_jobs(list(by_key))
	store_digests({j.name: fp for key, j in jobs.items() if (fp := recheck(by_key[key], j))})


def store_digests(digests: dict[str, str]) -> None:
	"""Set the jobs' fingerprints in one UPDATE (not a change of the job: `modified` stays)."""
	if not digests:
		return
	cases = " ".join(("when %s then %s",) * len(digests))
	frappe.db.sql(
		f"update `tabDispatch Job` set `legacy_digest` = case `name` {cases} end where `name` in %s",
		(*(v for pair in digests.items() for v in pair), tuple(digests)),
	)


def write_all(writes: list[Decision], so_far: "RunLog") -> None:
	"""Every batch but the last is committed here; the last is left to `apply`."""
	for start in range(0, len(writes), COMMIT_EVERY):
		batch = writes[start : start + COMMIT_EVERY]
		found = found_links(batch)
		if not write_batch(batch, found):
			for d in batch:
				write_one(d, found)
		settle([d for d in batch if d.action in WRITES and d.inputs])
		frappe.clear_messages()
		so_far.written += len(batch)
		if so_far.log_name:  # heartbeat: a log touched recently belongs to a live run
			frappe.db.set_value(
				"Sync Log",
				so_far.log_name,
				"message",
				_("{0} written, {1} of {2} tickets planned").format(
					so_far.written, so_far.planned, so_far.tickets
				),
			)
		if start + COMMIT_EVERY < len(writes):
			commit(batch)
		frappe.publish_progress(
			so_far.planned * 100 / max(so_far.tickets, 1),
			_("Legacy sync"),
			SETTINGS,
			SETTINGS,
			f"{so_far.planned}/{so_far.tickets}",
		)


def write_batch(batch: list[Decision], found: set[tuple[str, str]]) -> bool:
	"""The whole batch under one savepoint: no savepoint per ticket in the common case.
	False when the site refused one of them: then nothing of the batch is written and its
	decisions are as they were."""
	before = [(d.action, d.reason, d.job) for d in batch]
	try:
		with undoable("legacy_batch"):
			for d in batch:
				d.job = write(d, found)
	except Exception:
		for d, (action, reason, job) in zip(batch, before, strict=True):
			d.action, d.reason, d.job = action, reason, job
		return False
	return True


def write_one(d: Decision, found: set[tuple[str, str]]) -> None:
	"""One ticket in its own savepoint: refused, it is rolled back alone and recorded."""
	try:
		with undoable("legacy_ticket"):
			d.job = write(d, found)
	except Exception as e:
		if duplicate(e):
			d.action, d.reason = SKIP, Text("already created by another run")
			return
		why = frappe.utils.strip_html(str(e)) or type(e).__name__
		d.action, d.reason = ERROR, Text("{0} refused by the site: {1}", Text(d.action), why)


def duplicate(e: Exception) -> bool:
	"""A unique key refused the write. On PostgreSQL Frappe raises UniqueValidationError only
	for constraints named *_key: the index it adds to an existing field (the Node service's
	legacy_ticket_id) gives the driver's own error."""
	return isinstance(e, frappe.UniqueValidationError) or bool(e.args and frappe.db.is_duplicate_entry(e))


@contextmanager
def undoable(name: str):
	"""A savepoint whose rollback also drops what the rolled-back writes queued to happen
	after commit (webhooks, realtime events, enqueued jobs): Frappe's rollback watchers do
	not work with savepoints, so a refused write would otherwise still fire them."""
	db, local = frappe.db, frappe.local
	callbacks = {cb: deque(cb._functions) for cb in (db.before_commit, db.after_commit)}
	queues = {q: list(getattr(local, q, None) or []) for q in ("_realtime_log", "_webhook_queue")}
	db.savepoint(name)
	try:
		yield
	except BaseException:
		db.rollback(save_point=name)
		for cb, functions in callbacks.items():
			cb._functions = functions
		for q, items in queues.items():
			if items:
				setattr(local, q, items)
			elif hasattr(local, q):
				delattr(local, q)
		raise
	db.release_savepoint(name)


# --- a run --------------------------------------------------------------------------------


def take_lock(log) -> bool:
	"""Insert the Running log holding the unique run lock; False when another run holds it.
	The row is written as it is (`db_insert`, as Frappe writes its Access Log): the insert's
	validation and hooks have nothing to do for it, and cost a run 4 ms.

	The unique index decides between two runs started at the same moment, on MariaDB and
	PostgreSQL alike. A lock left by a dead run is released first, its log marked Failed.
	"""
	for holder in frappe.db.sql(
		"select `name`, `modified`, `worker` from `tabSync Log` where `run_lock` = %s", RUN_LOCK, as_dict=True
	):
		if not dead(holder):
			return False  # a live run: no need to hit the unique index
		frappe.db.set_value(
			"Sync Log",
			holder.name,
			{
				"run_lock": None,
				"status": "Failed",
				"message": _("Interrupted: the worker stopped during the run"),
			},
		)
	frappe.db.commit()  # nosemgrep
	frappe.db.savepoint("legacy_lock")
	try:
		log.db_insert()
	except frappe.UniqueValidationError:
		frappe.db.rollback(save_point="legacy_lock")
		return False
	frappe.db.commit()  # nosemgrep
	return True


def this_worker() -> str:
	return f"{socket.gethostname()}:{os.getpid()}"


def dead(holder) -> bool:
	"""A run is dead when its process is gone from this host, or its log has had no
	heartbeat for STALE_AFTER_MINUTES (a process on another host, or a hung one)."""
	host, _, pid = (holder.worker or "").rpartition(":")
	if host == socket.gethostname() and pid.isdigit():
		try:
			os.kill(int(pid), 0)
		except ProcessLookupError:
			return True
		except PermissionError:
			pass
	return get_datetime(holder.modified) < add_to_date(now_datetime(), minutes=-STALE_AFTER_MINUTES)


def new_log(trigger: str, user: str | None, **values):
	started = now_datetime()
	return frappe.get_doc(
		{
			"doctype": "Sync Log",
			"title": log_title(started, values["status"]),
			"trigger": trigger,
			"user": user or frappe.session.user,
			"started": started,
			"worker": this_worker(),
			**values,
		}
	)


def log_title(started, status: str) -> str:
	return _("Run {0} · {1}").format(format_datetime(started, "yyyy-MM-dd HH:mm"), _(status))


@contextmanager
def frozen_heap():
	"""The garbage collections of a run scan only what it allocates, not again the worker's
	heap (Frappe's modules, meta, caches): frozen (`gc.freeze`), as Frappe's worker pool and
	web server freeze it, unless it is already. One collection of that heap cost a 5,000-ticket
	run 18 ms."""
	if gc.get_freeze_count():
		yield
		return
	gc.freeze()
	try:
		yield
	finally:
		gc.unfreeze()


def run(trigger: str = "API", user: str | None = None) -> dict:
	"""One sync run, logged in a Sync Log. Returns its counts (see `result`)."""
	with frozen_heap():
		return run_logged(trigger, user)


def run_logged(trigger: str, user: str | None) -> dict:
	started = time.monotonic()
	log = new_log(trigger, user, status="Running", run_lock=RUN_LOCK)
	if not take_lock(log):
		log = new_log(trigger, user, status="Skipped", message=_("Another run is in progress"))
		log.insert(ignore_permissions=True)
		frappe.db.commit()  # nosemgrep
		return result(log, summary([]))

	from legacy_dispatch.jobs import ignored  # jobs imports this module

	so_far, chunk = RunLog(log.name), []
	try:
		tickets, gone, config, jobs_for, directory = read_legacy()
		so_far.tickets = len(tickets) + len(gone)
		for chunk in plan_chunks(tickets, gone, config, jobs_for, directory, ignored=ignored()):
			so_far.planned += len(chunk)
			apply(chunk, so_far)
			chunk = []
		failed = so_far.summary["errors"]
		log.status = "Partial" if failed else "Success"
		log.message = _("{0} tickets, {1} errors").format(so_far.summary["tickets"], failed)
	except (LegacyError, NotReady) as e:
		frappe.db.rollback()
		log.status, log.message = "Failed", str(e)
	except Exception as e:
		frappe.db.rollback()
		not_done(chunk)
		log.status, log.message, log.traceback = "Failed", str(e), frappe.get_traceback()
	so_far.add(chunk)
	finish(log, so_far, time.monotonic() - started)
	if log.status == "Failed":
		alert_if_failing(log.name)
		frappe.db.commit()  # nosemgrep
	out = result(log, so_far.summary)
	frappe.publish_realtime("legacy_dispatch_done", out, doctype=SETTINGS, docname=SETTINGS)
	return out


class RunLog:
	"""What a run planned in chunks has done so far: its summary, the tickets found up to
	date and the Sync Log's outcome rows, inserted chunk by chunk."""

	def __init__(self, log_name: str | None, tickets: int = 0):
		self.log_name, self.tickets, self.planned, self.written = log_name, tickets, 0, 0
		self.summary, self.unchanged, self.rows = summary([]), [], 0

	def add(self, decisions: list[Decision]) -> None:
		"""Insert the decisions' outcome rows and commit them with the writes not yet committed,
		then count them."""
		now = now_datetime()
		rows = [
			outcome_row(self.log_name, self.rows + i, d, now) for i, d in enumerate(outcomes(decisions), 1)
		]
		if rows:
			insert_rows("Sync Log Ticket", rows)
			commit(decisions)
		self.rows += len(rows)
		self.summary = summary(decisions, self.summary)
		self.unchanged += [d.legacy_ticket_id for d in decisions if d.action == UNCHANGED and not d.warnings]


def finish(log, so_far: RunLog, seconds: float) -> None:
	"""Record the outcome and release the lock (one plain UPDATE: set_value's query builder
	costs a run's fresh worker 2 ms; the outcome rows are in)."""
	log.update({**so_far.summary, "unmatched_accounts": len(so_far.summary["unmatched_accounts"])})
	log.update({"finished": now_datetime(), "duration": seconds, "run_lock": None})
	log.title = log_title(log.started, log.status)
	log.unchanged_tickets = ", ".join(so_far.unchanged)
	fields = ("status", "message", "traceback", "finished", "duration", "run_lock", "unchanged_tickets")
	values = {f: log.get(f) for f in (*fields, "title", "unmatched_accounts", *COUNT_FIELDS)}
	values.update(modified=log.finished, modified_by=frappe.session.user)
	frappe.db.sql(
		f"update `tabSync Log` set {', '.join(f'`{f}` = %({f})s' for f in values)} where `name` = %(log)s",
		{**values, "log": log.name},
	)
	frappe.db.commit()  # nosemgrep


def translated(text) -> str:
	"""A core reason or warning in the user's language (the core speaks English)."""
	return text.translated(_) if isinstance(text, Text) else text


def outcomes(decisions: list[Decision]) -> list[Decision]:
	return [d for d in decisions if d.action != UNCHANGED or d.warnings]


def insert_rows(doctype: str, rows: list[dict]) -> None:
	"""Rows with the same keys in one INSERT, its values as parameters (frappe.db.bulk_insert
	builds the query term by term: a quarter of a millisecond per row of 16 values)."""
	columns = ", ".join(f"`{f}`" for f in rows[0])
	row = f"({', '.join(['%s'] * len(rows[0]))})"
	frappe.db.sql(
		f"insert into `tab{doctype}` ({columns}) values {', '.join([row] * len(rows))}",
		[v for r in rows for v in r.values()],
	)


def outcome_row(parent: str, idx: int, d: Decision, now) -> dict:
	m = d.mapped
	return {
		"name": frappe.generate_hash(length=12),
		"parent": parent,
		"parenttype": "Sync Log",
		"parentfield": "outcomes",
		"idx": idx,
		"creation": now,
		"modified": now,
		"owner": "Administrator",
		"modified_by": "Administrator",
		"legacy_ticket_id": d.legacy_ticket_id,
		"action": d.action,
		"dispatch_job": d.job,
		"reason": translated(d.reason),
		"warnings": "\n".join(map(translated, d.warnings)),
		"customer_match": m.customer_match if m else None,
		"location_match": m.location_match if m else None,
	}


def result(log, counts: dict) -> dict:
	return {"status": log.status, "log": log.name, "message": log.message, **counts}


def preview() -> dict:
	"""What a run would do now, ticket by ticket. Reads only."""
	decisions = plan_now(preview=True)
	mapped = [d.mapped.fields for d in decisions if d.mapped]
	names = titles("Customer", "customer_name", {f["customer"] for f in mapped})
	names |= titles("Service Location", "address", {f["service_location"] for f in mapped}, "city")
	return {
		**summary(decisions),
		"tickets_detail": [describe(d, names) for d in decisions],
		"writeback": writeback.backlog(detail=True),
	}


def titles(doctype: str, field: str, names: set, *more: str) -> dict[str, str]:
	"""What people call these records (a customer's name, a location's address and city)."""
	names.discard(None)
	if not names:
		return {}
	rows = frappe.get_all(doctype, filters={"name": ("in", list(names))}, fields=["name", field, *more])
	return {r.name: ", ".join(v for v in (r.get(f) for f in (field, *more)) if v) or r.name for r in rows}


def describe(d: Decision, names: dict | None = None) -> dict:
	m = d.mapped
	names = names or {}
	return {
		"legacy_ticket_id": d.legacy_ticket_id,
		"action": d.action,
		"reason": translated(d.reason),
		"dispatch_job": d.job,
		"subject": m.fields["subject"] if m else None,
		"account_id": m.ticket.account_id if m else None,
		"customer": m.fields["customer"] if m else None,
		"customer_name": names.get(m.fields["customer"]) if m else None,
		"customer_match": m.customer_match if m else None,
		"service_location": m.fields["service_location"] if m else None,
		"location_name": names.get(m.fields["service_location"]) if m else None,
		"location_match": m.location_match if m else None,
		"changes": {k: str(v) if v is not None else None for k, v in d.changes.items()},
		"warnings": [translated(w) for w in d.warnings],
	}


# --- scheduling ---------------------------------------------------------------------------


def enqueue(trigger: str):
	"""Queue a run on the long queue under the one job id; None when one is already queued."""
	return frappe.enqueue(
		"legacy_dispatch.sync.run",
		queue="long",
		timeout=JOB_TIMEOUT,
		job_id=JOB_ID,
		deduplicate=True,
		now=frappe.flags.in_test,
		trigger=trigger,
		user=frappe.session.user,
	)


def due() -> bool:
	"""True when the sync is enabled and its period has elapsed since the last run started.

	The cron hook fires at a divisor of the period (`cron_for`); the period is read each
	time, so a new value takes effect at once.
	"""
	settings = frappe.get_single(SETTINGS)
	if not settings.enabled:
		return False
	last = frappe.get_all(
		"Sync Log",
		filters={"status": ("!=", "Skipped")},
		fields=["started"],
		order_by="started desc",
		limit=1,
	)
	period = max(cint(settings.sync_period), 1)
	return not last or get_datetime(last[0].started) <= add_to_date(
		now_datetime(), minutes=-period, seconds=30
	)


def scheduled():
	"""Cron hook (see `apply_schedule`): only enqueues a run when due, and the sending of
	write-backs still pending."""
	if due():
		enqueue("Scheduler")
	writeback.enqueue_send()


# --- renamed records ---------------------------------------------------------------------


def relink(doc, method=None, old: str | None = None, new: str | None = None, merge: bool = False):
	"""doc_events after_rename of Customer and Service Location: the site rewrote the jobs'
	links itself, so rewrite the bridge's record too, or the jobs would look edited."""
	fieldname = "customer" if doc.doctype == "Customer" else "service_location"
	for job in frappe.get_all(
		"Dispatch Job",
		filters={fieldname: new, "legacy_synced": ("is", "set")},
		fields=["name", "legacy_synced"],
	):
		record = renamed(job.legacy_synced, fieldname, old, new)
		if record:
			frappe.db.set_value("Dispatch Job", job.name, "legacy_synced", record, update_modified=False)


# --- the schedule ------------------------------------------------------------------------


def cron_for(period: int) -> str:
	"""The sparsest cron that still meets every `period` minutes (`due` decides which ticks
	run): every 15 min for 15 or 45, every 30 for 30, hourly for 60 or 120, every minute
	only for periods like 7 that share no divisor with the hour."""
	step = gcd(max(int(period), 1), 60)
	return ("* " if step == 1 else "0 " if step == 60 else f"*/{step} ") + "* * * *"


def apply_schedule() -> None:
	"""Point the scheduler's cron at the period, stopped while both the sync and the write-back are off, so
	Frappe's Scheduled Job Log gets one line per real check, not one a minute. Called when
	the settings are saved and after install and migrate (which reset it from hooks.py)."""
	settings = frappe.get_single(SETTINGS)
	on = settings.enabled or writeback.switches(settings).any()
	wanted = {"cron_format": cron_for(cint(settings.sync_period) or 15), "stopped": int(not on)}
	name = frappe.db.get_value("Scheduled Job Type", {"method": SCHEDULED_METHOD})
	if not name:  # at install, before Frappe syncs hooks.py's jobs: it keeps a matching one
		job = {"doctype": "Scheduled Job Type", "method": SCHEDULED_METHOD, "frequency": "Cron", **wanted}
		frappe.get_doc(job).insert(ignore_permissions=True)
		return
	job = frappe.get_doc("Scheduled Job Type", name)
	if any(job.get(k) != v for k, v in wanted.items()):
		job.update(wanted)
		job.save(ignore_permissions=True)
