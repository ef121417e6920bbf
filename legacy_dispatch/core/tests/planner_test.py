"""Every planner decision (SPEC §5), over tickets read from the real MariaDB.

`Site` stands in for the ERP side the way the Frappe adapter behaves: it stores
what a decision writes, and the snapshot of what the bridge wrote.
"""

from datetime import date, time

import pytest

from legacy_dispatch.core.mapping import Config, Department, Directory
from legacy_dispatch.core.planner import (
	CANCEL,
	CREATE,
	SKIP,
	UNCHANGED,
	UPDATE,
	Job,
	build_plan,
	normalise,
	snapshot,
	summary,
)


class Site:
	def __init__(self):
		self.jobs: dict[str, Job] = {}

	def run(self, legacy, config=None, directory=None, apply=True):
		with legacy.open() as source:
			decisions = build_plan(source, config or Config(), self.jobs, directory or Directory())
		if apply:
			for d in decisions:
				if d.action == CREATE:
					self.jobs[d.legacy_ticket_id] = Job(f"JOB-{d.legacy_ticket_id}", d.legacy_ticket_id, {})
				if d.action in (CREATE, UPDATE, CANCEL):
					job = self.jobs[d.legacy_ticket_id]
					job.values.update(d.changes)
					job.synced = snapshot(job.values)
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


def test_job_without_bridge_record_is_left_alone(legacy, site):
	t = legacy.ticket()
	site.jobs[str(t)] = Job("JOB-X", str(t), {"subject": "made by hand", "status": "open"})
	d = site.run(legacy)[str(t)]
	assert (d.action, d.reason) == (SKIP, "left alone: created outside the bridge")


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
		updated=0,
		cancelled=0,
		unchanged=0,
		skipped=0,
		errors=0,
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
