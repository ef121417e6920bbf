"""Write-back (SPEC §6.4): what a dispatcher's change writes, the compare-and-set against a
real MariaDB under a user with only the README's column rights, and the planner keeping
a ticket the bridge reassigned."""

import json
from datetime import UTC, date, datetime, time

import pytest

from legacy_dispatch.core.legacy import LegacyError
from legacy_dispatch.core.mapping import Config
from legacy_dispatch.core.planner import SKIP, UNCHANGED, record
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

from .planner_test import Site

ALL = Switches(True, True, True, True)
NOW = 1_800_000_000
GRANT = (  # the README's grants
	"GRANT SELECT (id, due_date, due_time, assign_to, status, date_closed, last_update),"
	" UPDATE (due_date, due_time, assign_to, status, date_closed, last_update)"
	" ON `{db}`.ticket TO 'ld_writer'@'localhost'"
)


@pytest.fixture
def writer(legacy):
	"""The write-back's own user, with the README's column rights on this database only."""
	legacy.sql("CREATE USER IF NOT EXISTS 'ld_writer'@'localhost' IDENTIFIED BY 'w-secret'")
	legacy.sql(GRANT.format(db=legacy.conn.database))
	yield LegacyWriter(
		legacy.conn.__class__(**{**legacy.conn.__dict__, "user": "ld_writer", "password": "w-secret"})
	)
	legacy.sql("DROP USER 'ld_writer'@'localhost'")


def row(legacy, ticket_id):
	cur = legacy.sql(
		"SELECT due_date, due_time, assign_to, status, last_update FROM ticket WHERE id = %s",
		(ticket_id,),
	)
	return dict(
		zip(("due_date", "due_time", "assign_to", "status", "last_update"), cur.fetchone(), strict=True)
	)


def expected(legacy, ticket_id) -> dict:
	with legacy.open() as source:
		return json.loads(record(source.tickets_by_id([ticket_id])[ticket_id]))


def test_a_change_is_written_only_over_the_values_last_read(legacy, writer):
	t = legacy.ticket(due_date=1_764_000_000, due_time="am", last_update=5)
	seen = expected(legacy, t)
	with writer:
		assert writer.compare_and_set(t, seen, {"due_date": 1_764_100_000, "due_time": "09:30"}, NOW) == (
			SENT,
			None,
		)
		written = row(legacy, t)
		assert (written["due_date"], written["due_time"], written["last_update"]) == (
			1_764_100_000,
			"09:30",
			NOW,
		)
		# the same write again (a worker killed before it recorded the first): nothing written
		legacy.update(t, last_update=7)
		outcome, found = writer.compare_and_set(
			t, seen, {"due_date": 1_764_100_000, "due_time": "09:30"}, NOW + 1
		)
		assert (outcome, found["due_time"]) == (ALREADY, "09:30")
		assert row(legacy, t)["last_update"] == 7
		# legacy changed the row since it was read: legacy wins
		legacy.update(t, assign_to=4001)
		outcome, found = writer.compare_and_set(
			t, expected(legacy, t) | {"assign_to": 3301}, {"due_time": "14:00"}, NOW
		)
		assert (outcome, found["assign_to"]) == (CONFLICT, 4001)
		assert row(legacy, t)["due_time"] == "09:30"
		assert writer.compare_and_set(999, seen, {"due_time": "14:00"}, NOW) == (MISSING, None)


def test_a_write_of_the_values_already_there_still_counts_as_found(legacy, writer):
	"""Rows matched, not rows changed: a compare-and-set that finds its row is a success even
	when the row already held the values (same second, same values)."""
	t = legacy.ticket(assign_to=3301, last_update=NOW)
	with writer:
		assert writer.compare_and_set(t, expected(legacy, t), {"assign_to": 3301}, NOW) == (SENT, None)


def test_the_writer_may_do_only_what_it_needs(legacy, writer):
	with writer:
		writer.check()  # every statement of a write-back, touching no row
		with pytest.raises(ValueError):
			writer.compare_and_set(1, {}, {"subject": "x"}, NOW)
		with pytest.raises(LegacyError, match="denied"):
			writer.execute(writer.db.cursor(), "UPDATE ticket SET subject = 'x' WHERE id = 0")
	legacy.sql(f"REVOKE UPDATE (date_closed) ON `{legacy.conn.database}`.ticket FROM 'ld_writer'@'localhost'")
	with writer, pytest.raises(LegacyError, match="denied"):
		writer.check()


def test_the_reader_session_stays_read_only(legacy):
	t = legacy.ticket()
	with legacy.open() as source, pytest.raises(LegacyError, match="READ ONLY"):
		source.execute(source.db.cursor(), "UPDATE ticket SET due_time = 'pm' WHERE id = %s", (t,))


def utc(*args) -> int:
	return int(datetime(*args, tzinfo=UTC).timestamp())


BEFORE = {"scheduled_date": None, "start_time": None, "assigned_tech": None, "status": "open"}


@pytest.mark.parametrize(
	"after, wanted",
	[
		# an evening in Toronto is the next day in UTC: the local date and time are kept
		(
			{"scheduled_date": date(2026, 11, 24), "start_time": "19:30:00"},
			{"due_date": utc(2026, 11, 25, 0, 30), "due_time": "19:30"},
		),
		(
			{"scheduled_date": "2026-11-24", "start_time": None},
			{"due_date": utc(2026, 11, 24, 5), "due_time": "day"},
		),
		(
			{"scheduled_date": "2026-07-01", "start_time": time(8, 0)},
			{"due_date": utc(2026, 7, 1, 12), "due_time": "08:00"},
		),
		({"assigned_tech": "TECH-1"}, {"assign_to": 4001}),
		({"status": "completed"}, {"status": "closed", "date_closed": NOW}),
		({"status": "cancelled"}, {"status": "closed", "date_closed": NOW}),
		({"subject": "other"}, {}),
	],
)
def test_what_a_dispatchers_change_writes(after, wanted):
	assert changes(BEFORE, {**BEFORE, **after}, ALL, "America/Toronto", 4001, NOW) == wanted


def test_each_kind_has_its_switch():
	after = {"scheduled_date": "2026-11-24", "start_time": None, "assigned_tech": "T", "status": "completed"}
	assert changes(BEFORE, after, Switches(), "America/Toronto", 4001, NOW) == {}
	assert set(changes(BEFORE, after, Switches(technician=True), "America/Toronto", 4001, NOW)) == {
		"assign_to"
	}
	# a technician without a legacy staff id: only the date goes back
	assert set(changes(BEFORE, after, ALL, "America/Toronto", None, NOW)) == {
		"due_date",
		"due_time",
		"status",
		"date_closed",
	}
	cancelled = {**BEFORE, "status": "cancelled"}
	assert changes(BEFORE, cancelled, Switches(True, True, True, False), "America/Toronto", 1, NOW) == {}
	# a cleared date: no date in legacy either
	assert changes({**BEFORE, "scheduled_date": "2026-11-24"}, BEFORE, ALL, "UTC", 1, NOW) == {
		"due_date": 0,
		"due_time": "day",
	}


def test_only_the_latest_value_of_a_column_is_sent():
	assert merge([{"due_date": 1, "due_time": "am"}, {"assign_to": 7}, {"due_date": 2}]) == {
		"due_date": 2,
		"due_time": "am",
		"assign_to": 7,
	}


def test_a_ticket_the_write_back_reassigned_stays_tracked(legacy):
	site = Site()
	t, other = legacy.ticket(), legacy.ticket()
	site.run(legacy)
	job = site.job(t)
	assert json.loads(job.legacy)["assign_to"] == 3301
	# dispatch assigns a technician; the write-back gives the ticket to the technician's staff id
	job.assigned_tech = "TECH-1"
	legacy.update(t, assign_to=4001)
	job.legacy = json.dumps({**json.loads(job.legacy), "assign_to": 4001, "written_assign_to": 4001})
	out = site.run(legacy)
	assert (out[str(t)].action, out[str(t)].reason) == (
		SKIP,
		"left alone: assigned to TECH-1; assigned in legacy to staff 4001 by the write-back",
	)
	assert out[str(t)].legacy is None  # nothing new read
	# unassigned by dispatch but still with the technician in legacy: kept, not cancelled
	job.assigned_tech = None
	assert site.run(legacy, apply=False)[str(t)].action == UNCHANGED
	# a reassignment made in legacy still counts as one
	legacy.update(t, assign_to=5005)
	out = site.run(legacy)
	assert out[str(t)].reason == "ticket reassigned in legacy (staff 5005)"
	assert "written_assign_to" not in json.loads(site.job(t).legacy)
	assert out[str(other)].action == UNCHANGED and out[str(other)].legacy is None


def test_the_record_follows_legacy_and_costs_nothing_when_unchanged(legacy):
	site = Site()
	t = legacy.ticket(due_time="am")
	site.run(legacy, Config())
	assert json.loads(site.job(t).legacy) == {
		"assign_to": 3301,
		"due_date": 0,
		"due_time": "am",
		"status": "open",
	}
	legacy.update(t, due_time="08:00")  # the same start time: the job does not change, the record does
	d = site.run(legacy)[str(t)]
	assert (d.action, json.loads(d.legacy)["due_time"]) == (UNCHANGED, "08:00")
	assert site.run(legacy)[str(t)].legacy is None
