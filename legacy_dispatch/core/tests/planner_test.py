"""Every planner decision (SPEC §5), over tickets read from the real MariaDB.

`Site` stands in for the ERP side the way the Frappe adapter behaves: it stores
what a decision writes, the snapshot of what the bridge wrote, and the fingerprint of a
settled job. Each of its runs plans twice, in full and the fast way, and checks that the
two plans are the same.
"""

import marshal
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from legacy_dispatch.core.mapping import Config, Department, Directory, Location, Ticket
from legacy_dispatch.core.planner import (
	ADOPT,
	CANCEL,
	CREATE,
	IGNORE,
	NOT_DONE,
	SKIP,
	UNCHANGED,
	UPDATE,
	WRITES,
	Decision,
	Inputs,
	Job,
	build_plan,
	fingerprint,
	normalise,
	not_done,
	outcome,
	plan,
	recheck,
	renamed,
	serial,
	snapshot,
	summary,
)
from legacy_dispatch.core.sources import open_source


class Site:
	def __init__(self):
		self.jobs: dict[str, Job] = {}

	def run(self, legacy, config=None, directory=None, apply=True):
		config, directory = config or Config(), directory or Directory()
		with legacy.open() as source:
			full = build_plan(source, config, self.jobs, directory)
		with legacy.open() as source:
			decisions = build_plan(source, config, self.jobs, directory, fast=True)
		assert list(map(outcome, decisions)) == list(map(outcome, full))
		assert summary(decisions) == summary(full)
		self.fast = sum(d.action == UNCHANGED and d.mapped is None and d.job is not None for d in decisions)
		if apply:
			for d in decisions:
				if d.action == CREATE:
					self.jobs[d.legacy_ticket_id] = Job(f"JOB-{d.legacy_ticket_id}", d.legacy_ticket_id, {})
				if d.action in WRITES:
					job = self.jobs[d.legacy_ticket_id]
					job.values.update(d.changes)
					job.synced = snapshot(job.values)
				if d.legacy and d.legacy_ticket_id in self.jobs:  # what was read of the ticket
					self.jobs[d.legacy_ticket_id].legacy = d.legacy
				if d.digest:  # a settled job planned in full
					self.jobs[d.legacy_ticket_id].digest = d.digest
				if d.action in WRITES and d.inputs:  # as the adapter does once the write is committed
					job = self.jobs[d.legacy_ticket_id]
					job.digest = recheck(d, job)
		return {d.legacy_ticket_id: d for d in decisions}

	def job(self, ticket_id) -> Job:
		return self.jobs[str(ticket_id)]


@pytest.fixture
def site():
	return Site()


def test_create_then_nothing_on_rerun(legacy, site):
	a, b = legacy.ticket(subject="A"), legacy.ticket(subject="B", due_date=1795494600, due_time="pm")
	first = site.run(legacy)
	assert {k: d.action for k, d in first.items()} == {str(a): CREATE, str(b): CREATE}
	assert site.job(b).values["scheduled_date"] == date(2026, 11, 23)
	assert site.job(b).values["start_time"] == time(13, 0)
	second = site.run(legacy)
	assert {d.action for d in second.values()} == {UNCHANGED}
	assert summary(list(second.values()))["created"] == 0


def test_update_flows_into_an_untouched_job(legacy, site):
	t = legacy.ticket(subject="Panne", priority=2, due_time="am")
	site.run(legacy)
	legacy.update(t, subject="Panne totale", priority=3, due_time="14:00")
	d = site.run(legacy)[str(t)]
	assert d.action == UPDATE
	assert d.changes == {
		"subject": "Panne totale",
		"note": "Panne totale",
		"priority": "high",
		"start_time": time(14),
	}
	assert d.reason == "legacy changed: subject, note, start_time, priority"
	assert site.job(t).values["priority"] == "high"
	assert site.run(legacy)[str(t)].action == UNCHANGED


def test_leave_when_assigned(legacy, site):
	t = legacy.ticket(subject="Panne")
	site.run(legacy)
	site.job(t).assigned_tech = "TECH-7"
	legacy.update(t, subject="Panne totale")
	d = site.run(legacy)[str(t)]
	assert (d.action, d.reason) == (SKIP, "left alone: assigned to TECH-7")
	assert site.job(t).values["subject"] == "Panne"


@pytest.mark.parametrize(
	"field, value",
	[
		("scheduled_date", "2026-12-01"),
		("start_time", "10:00:00"),
		("status", "in_progress"),
		("priority", "urgent"),
	],
)
def test_leave_when_a_dispatcher_edited_a_field(legacy, site, field, value):
	t = legacy.ticket(subject="Panne")
	site.run(legacy)
	site.job(t).values[field] = value
	legacy.update(t, subject="Panne totale", priority=1)
	d = site.run(legacy)[str(t)]
	assert (d.action, d.reason) == (SKIP, f"left alone: changed by a dispatcher: {field}")
	assert site.job(t).values["subject"] == "Panne"


def test_cancel_on_legacy_closure(legacy, site):
	t, other = legacy.ticket(), legacy.ticket()
	site.run(legacy)
	legacy.update(t, status="closed")
	decisions = site.run(legacy)
	assert (decisions[str(t)].action, decisions[str(t)].reason) == (CANCEL, "ticket closed in legacy")
	assert decisions[str(other)].action == UNCHANGED
	assert site.job(t).values["status"] == "cancelled"
	assert str(t) not in site.run(legacy)  # a cancelled job is not looked up again


def test_leave_and_report_when_an_owned_jobs_ticket_closes(legacy, site):
	t = legacy.ticket()
	site.run(legacy)
	site.job(t).assigned_tech = "TECH-7"
	legacy.update(t, status="closed")
	d = site.run(legacy)[str(t)]
	assert (d.action, d.reason) == (SKIP, "ticket closed in legacy; job kept, assigned to TECH-7")
	assert site.job(t).values["status"] == "open"


@pytest.mark.parametrize(
	"change, reason",
	[
		(lambda legacy, t: legacy.update(t, assign_to=12), "ticket reassigned in legacy (staff 12)"),
		(lambda legacy, t: legacy.sql("DELETE FROM ticket WHERE id = %s", [t]), "ticket deleted in legacy"),
		(lambda legacy, t: legacy.update(t, status="pending"), "ticket pending in legacy"),
	],
)
def test_cancel_when_the_ticket_leaves_the_filter(legacy, site, change, reason):
	t = legacy.ticket()
	site.run(legacy)
	change(legacy, t)
	d = site.run(legacy)[str(t)]
	assert (d.action, d.reason) == (CANCEL, reason)


def test_reopened_ticket_reopens_the_job_the_bridge_cancelled(legacy, site):
	t = legacy.ticket()
	site.run(legacy)
	legacy.update(t, status="closed")
	site.run(legacy)
	legacy.update(t, status="open")
	d = site.run(legacy)[str(t)]
	assert (d.action, d.reason, d.changes) == (UPDATE, "reopened in legacy", {"status": "open"})


def test_excluded_department(legacy, site):
	config = Config(departments={4: Department(4, "ToDo", "Autre", None, False)})
	todo = legacy.ticket(dept_id=4)
	d = site.run(legacy, config)[str(todo)]
	assert (d.action, d.reason) == (SKIP, "department 4 not included")
	assert str(todo) not in site.jobs
	# a job created before the department was excluded is cancelled while untouched
	site.run(legacy)
	assert site.run(legacy, config)[str(todo)].action == CANCEL


def node_job(site, legacy, **values) -> str:
	"""A job the old Node bridge made for a new ticket: no record of what the bridge wrote."""
	t = legacy.ticket(subject="Branchement")
	mapped = dict(build_plan_one(legacy, t).changes)
	site.jobs[str(t)] = Job("NODE-1", str(t), {**mapped, **values}, values.get("assigned_tech"))
	return str(t)


def build_plan_one(legacy, t) -> Decision:
	with legacy.open() as source:
		return next(d for d in build_plan(source, Config(), {}, Directory()) if d.legacy_ticket_id == str(t))


def test_an_open_unassigned_job_without_record_is_adopted_then_follows_legacy(legacy, site):
	t = node_job(site, legacy)
	d = site.run(legacy)[t]
	assert (d.action, d.reason, d.changes) == (ADOPT, "taken over", {})
	assert site.job(t).synced == snapshot(site.job(t).values)
	assert site.run(legacy)[t].action == UNCHANGED  # a second run writes nothing
	legacy.update(int(t), due_date=1795494600)
	d = site.run(legacy)[t]
	assert (d.action, d.changes) == (UPDATE, {"scheduled_date": date(2026, 11, 23)})
	site.job(t).values["priority"] = "high"  # a dispatcher's edit wins over later legacy changes
	legacy.update(int(t), subject="Changé")
	assert site.run(legacy)[t].reason == "left alone: changed by a dispatcher: priority"


def test_adoption_brings_the_legacy_changes_in(legacy, site):
	t = node_job(site, legacy, subject="Ancien sujet", priority="low")
	d = site.run(legacy)[t]
	assert (d.action, d.reason) == (ADOPT, "taken over: legacy changed subject, priority")
	assert (site.job(t).values["subject"], site.job(t).values["priority"]) == ("Branchement", "medium")


def test_an_adopted_job_is_cancelled_when_its_ticket_closes(legacy, site):
	t = node_job(site, legacy)
	legacy.update(int(t), status="closed")
	d = site.run(legacy)[t]
	assert (d.action, d.reason, d.changes) == (
		ADOPT,
		"taken over: ticket closed in legacy",
		{"status": "cancelled"},
	)
	assert site.run(legacy) == {}  # cancelled: no longer active


@pytest.mark.parametrize(
	"values, reason",
	[
		({"assigned_tech": "TECH-1"}, "assigned to TECH-1"),
		({"status": "in_progress"}, "made outside the bridge, in_progress by dispatch"),
		({"status": "assigned"}, "made outside the bridge, assigned by dispatch"),
	],
)
def test_a_job_without_record_that_dispatch_took_is_left_alone(legacy, site, values, reason):
	t = node_job(site, legacy, **values)
	before = dict(site.job(t).values)
	legacy.update(int(t), subject="Changé")
	assert (site.run(legacy)[t].action, site.run(legacy)[t].reason) == (SKIP, f"left alone: {reason}")
	legacy.update(int(t), status="closed")
	d = site.run(legacy)[t]
	assert (d.action, d.reason) == (SKIP, f"ticket closed in legacy; job kept, {reason}")
	assert site.job(t).values == before and site.job(t).synced is None


def test_a_completed_job_without_record_stays_as_it_is(legacy, site):
	t = node_job(site, legacy, status="completed")
	assert site.run(legacy)[t].reason == "left alone: made outside the bridge, completed by dispatch"


def test_a_ticket_open_in_legacy_but_not_read_is_never_cancelled(legacy, site):
	"""A preview's row limit reads only part of the selection: the rest is not 'gone'."""
	a, b = legacy.ticket(), legacy.ticket()
	site.run(legacy)
	with legacy.open() as source:
		still_open = source.tickets_by_id([a])[a]
	decisions = plan([], site.jobs, {str(a): still_open, str(b): None}, 3301)
	assert [(d.action, d.reason) for d in decisions] == [
		(UNCHANGED, "still open in legacy, not read this time"),
		(CANCEL, "ticket deleted in legacy"),
	]


def test_a_failed_run_reports_uncommitted_writes_as_not_done(legacy, site):
	legacy.ticket(), legacy.ticket(), legacy.ticket()
	decisions = list(site.run(legacy, apply=False).values())
	decisions[0].done = True
	not_done(decisions)
	counts = summary(decisions)
	assert (counts["created"], counts["not_done"]) == (1, 2)
	assert decisions[1].action == NOT_DONE
	assert decisions[1].reason == "not written, the run stopped first: new open ticket"


def test_a_renamed_link_keeps_the_record():
	synced = snapshot({"customer": "Old Name", "subject": "S"})
	after = renamed(synced, "customer", "Old Name", "New Name")
	assert after == snapshot({"customer": "New Name", "subject": "S"})
	assert renamed(synced, "customer", "Someone Else", "X") is None
	assert renamed(None, "customer", "Old Name", "X") is None


def test_only_selected_tickets_are_planned(legacy, site):
	legacy.ticket(status="closed")
	legacy.ticket(assign_to=12)
	legacy.ticket(status="OPEN")  # matched by the column's collation, not open for the bridge
	mine = legacy.ticket(assign_to=77)
	assert site.run(legacy) == {}
	assert set(site.run(legacy, Config(staff_id=77))) == {str(mine)}


def test_summary_counts_and_unmatched(legacy, site):
	legacy.account(5, city="Laval")
	legacy.ticket(account_id=5)
	legacy.ticket(account_id=6)
	legacy.ticket(account_id=0)
	counts = summary(list(site.run(legacy, directory=Directory({"6": ["C6"]})).values()))
	assert counts == dict(
		tickets=3,
		created=3,
		adopted=0,
		updated=0,
		cancelled=0,
		unchanged=0,
		skipped=0,
		ignored=0,
		errors=0,
		not_done=0,
		unmatched_customer=1,
		unmatched_accounts=[5],
	)


@pytest.mark.parametrize(
	"field, a, b",
	[
		("start_time", time(8, 0), "8:00:00"),
		("start_time", time(8, 0), "08:00:00.000000"),
		("scheduled_date", date(2026, 1, 2), "2026-01-02"),
		("latitude", None, 0.0),
		("latitude", 45.5, "45.500000000"),
		("subject", None, ""),
	],
)
def test_normalise_makes_database_forms_equal(field, a, b):
	from datetime import timedelta

	assert normalise(field, a) == normalise(field, b)
	if field == "start_time":
		assert normalise(field, timedelta(hours=8)) == normalise(field, a)


def test_a_preview_with_a_row_limit_plans_no_phantom_cancel(legacy, site):
	for _ in range(5):
		legacy.ticket()
	site.run(legacy)
	query = "SELECT id, subject, status, assign_to, due_date FROM ticket"
	with open_source("custom", legacy.conn, {"query": query, "row_limit": 2}) as source:
		decisions = build_plan(source, Config(), site.jobs, Directory())
	assert [d.action for d in decisions] == [UNCHANGED] * 5
	assert [d.reason for d in decisions][2:] == ["still open in legacy, not read this time"] * 3


def test_a_ticket_whose_job_was_deleted_is_ignored_until_lifted(legacy):
	t, other = legacy.ticket(account_id=77), legacy.ticket()
	with legacy.open() as source:
		decisions = build_plan(
			source, Config(), {}, Directory(), {str(t): "job deleted by marie on 2026-11-23"}
		)
	d = {x.legacy_ticket_id: x for x in decisions}
	assert (d[str(t)].action, d[str(t)].reason) == (IGNORE, "ignored: job deleted by marie on 2026-11-23")
	assert d[str(other)].action == CREATE
	counts = summary(decisions)
	assert (counts["ignored"], counts["created"], counts["unmatched_customer"]) == (1, 1, 0)
	with legacy.open() as source:  # lifted: created again
		assert build_plan(source, Config(), {}, Directory())[0].action == CREATE


# --- the fast path: a settled ticket is not planned again, and the plan is the same -------


def test_the_fast_path_plans_what_the_full_path_plans(legacy, site):
	"""Site.run checks at every run that the fast plan equals the full one; here each kind of
	change must also be noticed, and only the tickets it touches planned in full."""
	legacy.account(5, city="Laval")
	legacy.account(6, city="Mirabel")
	places = {"C5": [Location("L5", "Laval", 45.5, -73.7)]}
	directory = Directory({"5": ["C5"]}, places)
	config = Config(departments={1: Department(1, "Installation", "Installation")})
	a, b, c = (legacy.ticket(account_id=5, subject=f"Panne {i}", due_time="am") for i in range(3))
	later, internal = legacy.ticket(account_id=6), legacy.ticket(account_id=0)

	def run(n_fast, **kw):
		out = site.run(legacy, kw.pop("config", config), kw.pop("directory", directory))
		assert site.fast == n_fast
		return out

	assert {d.action for d in run(0).values()} == {CREATE}
	out = run(5)  # `later`'s account is unmatched: still counted so, from the directory
	assert {d.action for d in out.values()} == {UNCHANGED} and out[str(later)].mapped is None
	assert summary(list(out.values()))["unmatched_accounts"] == [6]
	legacy.update(a, subject="Panne totale")  # a legacy change
	assert run(4)[str(a)].action == UPDATE
	run(5)
	site.job(b).values["priority"] = "urgent"  # a dispatcher's edit
	assert run(4)[str(b)].reason == "left alone: changed by a dispatcher: priority"
	site.job(c).assigned_tech = "TECH-1"  # a technician assigned
	assert run(3)[str(c)].action == SKIP
	directory.customers["6"] = ["C6"]  # the unmatched account gains a Customer
	assert run(2)[str(later)].changes == {"customer": "C6"}
	run(3)
	places["C5"].append(Location("L5b", "Laval", 45.6, -73.6))  # a second location in the city
	out = run(2)
	assert out[str(a)].warnings and out[str(a)].action == UNCHANGED
	places["C5"].pop()  # as before: the fingerprint taken then holds again
	run(3)
	site.job(a).values["customer"] = "C5-renamed"  # the Customer renamed: the site relinks the job
	site.job(a).synced = renamed(site.job(a).synced, "customer", "C5", "C5-renamed")
	directory.customers["5"] = ["C5-renamed"]
	directory.locations["C5-renamed"] = places["C5"]
	assert run(2)[str(a)].action == UNCHANGED
	run(3)
	slower = Config(departments=config.departments, durations={"Installation": 3.0})  # the settings
	assert {d.action for k, d in run(0, config=slower).items() if k != str(c) and k != str(b)} == {UPDATE}
	legacy.update(internal, status="closed")  # closure
	assert run(2, config=slower)[str(internal)].action == CANCEL
	site.job(a).legacy = None  # the ticket's record lost (the write-back keeps its own)
	assert run(1, config=slower)[str(a)].legacy
	assert run(2, config=slower)[str(a)].action == UNCHANGED


def test_a_fingerprint_takes_any_value_a_source_yields_and_tells_them_apart():
	"""marshal's bytes, or the repr for what marshal does not take (a custom query's Decimal or
	datetime): the same values give the same fingerprint in any run, different ones another."""
	read_now = Inputs(Config(), Directory({"5": ["C5"]}, {"C5": [Location("L5", "Laval", 45.5, -73.7)]}))

	def fp(values=None, **ticket):
		inputs, _unclaimed = read_now(Ticket(1, account_id=5, **ticket))
		return fingerprint(inputs, Job("JOB-1", "1", values or {"subject": "Panne"}, None, "{}", "{}"))

	kinds = (3, "3", 3.0, True, None, Decimal("3"), Decimal("3.0"), datetime(2026, 11, 24, 9, 30))
	assert [fp(due_date=v) for v in kinds] == [fp(due_date=v) for v in kinds]
	assert len({fp(due_date=v) for v in kinds}) == len(kinds)
	assert (
		len({fp(v) for v in ({"subject": "a", "note": None}, {"subject": None, "note": "a"}, {"note": "a"})})
		== 2
	)
	assert serial((1, "é", 2.5, None)) == marshal.dumps((1, "é", 2.5, None), 2)
	assert serial(Decimal("3")) == b"rDecimal('3')"
