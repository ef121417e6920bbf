"""The osTicket profile against osTicket 1.18's own tables, with tickets stored the way osTicket
stores them (testing.OsTicket), each shown through the mapping."""

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import MySQLdb
import pytest

from legacy_dispatch.core.legacy import LegacyDB, LegacyError
from legacy_dispatch.core.mapping import Config, Directory, Ticket, map_ticket
from legacy_dispatch.core.osticket import OsTicketDB
from legacy_dispatch.core.planner import CANCEL, CREATE, UNCHANGED
from legacy_dispatch.core.sources import open_source
from legacy_dispatch.core.testing import OsTicket
from legacy_dispatch.core.tests.planner_test import Site

README = Path(__file__).parents[3] / "README.md"


def selection(osticket, staff_id=3301, **options) -> list[Ticket]:
	with osticket.open(**options) as source:
		return list(source.open_tickets(staff_id))


def one(osticket, **options) -> Ticket:
	[ticket] = selection(osticket, **options)
	return ticket


def epoch(*utc) -> int:
	return int(datetime(*utc, tzinfo=UTC).timestamp())


def test_open_ticket_and_its_mapping(osticket):
	user = osticket.user("Marie Tremblay", address="12 rue des Érables", city="Lévis", zip="G6V 1A1")
	ticket_id = osticket.ticket(
		"Pose du modem", "high", user_id=user, dept_id=1, duedate="2026-07-14 09:00:00"
	)
	t = one(osticket)
	assert t == Ticket(
		id=ticket_id,
		account_id=user,
		dept_id=1,
		subject="Pose du modem",
		status="open",
		priority="high",
		assign_to=3301,
		due_date=t.due_date,
		due_time=None,
		last_update=t.last_update,
		address="12 rue des Érables",
		city="Lévis",
		zip="G6V 1A1",
		dept_name="Installation",
	)
	assert t.last_update > 0
	m = map_ticket(t, Config(), Directory(customers={str(user): ["CUST-0001"]}))
	assert m.warnings == []
	assert m.customer_match == "matched"
	assert {
		k: m.fields[k] for k in ("ticket_id", "customer", "job_type", "duration_h", "priority", "start_time")
	} == {
		"ticket_id": f"LEG-{ticket_id}",
		"customer": "CUST-0001",
		"job_type": "Installation",
		"duration_h": 2.0,
		"priority": "high",
		"start_time": None,
	}
	assert m.fields["subject"] == "Pose du modem — 12 rue des Érables, Lévis"  # no service location matched


def test_selection_is_open_state_and_assignee(osticket):
	keep = osticket.ticket("open")
	osticket.ticket("someone else's", staff_id=12)
	osticket.ticket("unassigned", staff_id=0)
	for status in ("Resolved", "Closed", "Archived", "Deleted"):
		osticket.ticket(status, status=status)
	osticket.sql("INSERT INTO ost_ticket_status (id, name, state, properties, created, updated) VALUES (9, 'Waiting on parts', 'open', '', NOW(), NOW())")  # fmt: skip
	custom_open = osticket.ticket("custom open status", status="Waiting on parts")
	assert [t.id for t in selection(osticket)] == [keep, custom_open]
	assert [t.id for t in selection(osticket, staff_id=12)] == [keep + 1]


def test_team_assignment(osticket):
	by_team = osticket.ticket("team", staff_id=0, team_id=7)
	osticket.ticket("staff", staff_id=7, team_id=0)
	[t] = selection(osticket, staff_id=7, assignee="team")
	assert (t.id, t.assign_to) == (by_team, 7)
	assert [t.subject for t in selection(osticket, staff_id=7, assignee="staff")] == ["staff"]


@pytest.mark.parametrize(
	"priority, level",
	[("low", "low"), ("normal", "medium"), ("high", "high"), ("emergency", "urgent"), (None, "medium")],
)
def test_priorities(osticket, priority, level):
	osticket.ticket(priority=priority)
	t = one(osticket)
	assert t.priority == level
	m = map_ticket(t, Config(), Directory())
	assert (m.fields["priority"], m.warnings) == (level, [])


def test_renamed_priorities_map_by_their_key_and_unknown_ones_are_reported(osticket):
	osticket.sql("UPDATE ost_ticket_priority SET priority_desc = 'Urgence' WHERE priority = 'emergency'")
	osticket.ticket("renamed", "emergency")
	gone = osticket.ticket("unknown id")
	osticket.update_cdata(gone, {"priority": ("?", 9)})
	urgent, unknown = selection(osticket)
	assert urgent.priority == "urgent"
	m = map_ticket(unknown, Config(), Directory())
	assert m.fields["priority"] == "medium"
	assert m.warnings == ["priority: unusable value 'osTicket priority_id 9', set to medium"]


def test_cdata_missing_falls_back_to_the_first_message_and_normal_priority(osticket):
	osticket.drop_cdata()  # osTicket drops it when the ticket form changes, rebuilds it on cron
	ticket_id = osticket.ticket("Fibre coupée", "emergency")  # then a note titled "Ticket Assigned"
	t = one(osticket)
	assert (t.id, t.subject, t.priority) == (ticket_id, "Fibre coupée", "medium")
	assert map_ticket(t, Config(), Directory()).warnings == []
	osticket.build_cdata()  # rebuilt from the form answers: the real priority is back
	assert (one(osticket).subject, one(osticket).priority) == ("Fibre coupée", "urgent")


def test_ticket_not_yet_in_cdata(osticket):
	osticket.ticket("in cdata", "high")
	late = osticket.ticket("not in cdata yet", "high")
	osticket.sql("DELETE FROM ost_ticket__cdata WHERE ticket_id = %s", (late,))
	assert [(t.subject, t.priority) for t in selection(osticket)] == [
		("in cdata", "high"),
		("not in cdata yet", "medium"),
	]


def test_cdata_with_other_columns(osticket):
	osticket.ticket("before", "low")
	osticket.add_field("T", "account_no")  # rebuilds cdata with one more column
	osticket.add_field("T", "", "text")  # unnamed: osTicket names its column field_<id>
	ticket_id = osticket.ticket("after", "high")
	osticket.answer("T", ticket_id, {"account_no": "A-17"})
	osticket.update_cdata(ticket_id, {"account_no": "A-17"})
	assert {"ticket_id", "subject", "priority", "account_no"} <= set(osticket.cdata_columns())
	assert [(t.subject, t.priority) for t in selection(osticket)] == [("before", "low"), ("after", "high")]


def test_cdata_without_subject_or_priority_columns(osticket):
	osticket.ticket("Réparation urgente", "emergency")
	osticket.add_field("T", "account_no")
	osticket.sql("DELETE FROM ost_form_field WHERE name IN ('subject', 'priority')")  # an admin's form
	osticket.build_cdata()
	assert osticket.cdata_columns() == ["ticket_id", "account_no"]
	t = one(osticket)
	assert (t.subject, t.priority) == ("Réparation urgente", "medium")


def test_due_dates_are_read_in_the_server_time_zone(osticket, server_time_zone):
	server_time_zone("+09:00")  # the server's clock: Tokyo
	due = osticket.ticket("due", duedate="2026-06-15 08:00:00")  # 2026-06-14 23:00 UTC, 19:00 in Toronto
	sla = osticket.ticket("sla only", est_duedate="2026-06-16 08:00:00")
	both = osticket.ticket("both", duedate="2026-06-15 08:00:00", est_duedate="2026-06-30 08:00:00")
	none = osticket.ticket("no due date")
	tickets = {t.id: t for t in selection(osticket)}
	assert tickets[due].due_date == epoch(2026, 6, 14, 23, 0)
	assert tickets[sla].due_date == epoch(2026, 6, 15, 23, 0)
	assert tickets[both].due_date == epoch(2026, 6, 14, 23, 0)
	assert tickets[none].due_date is None
	m = map_ticket(tickets[due], Config(), Directory())
	assert m.fields["scheduled_date"] == date(2026, 6, 14)  # not the 15th of the DATETIME's text
	assert m.warnings == []


def test_due_date_in_a_server_time_zone_west_of_toronto(osticket, server_time_zone):
	server_time_zone("-08:00")
	osticket.ticket(duedate="2026-06-14 23:00:00")  # 2026-06-15 07:00 UTC, 03:00 in Toronto
	t = one(osticket)
	assert map_ticket(t, Config(), Directory()).fields["scheduled_date"] == date(2026, 6, 15)
	assert map_ticket(t, Config(time_zone="Etc/GMT+8"), Directory()).fields["scheduled_date"] == date(
		2026, 6, 14
	)


def test_customer_key_user_or_organization(osticket):
	org = osticket.organization(
		"Ferme Gagnon", address="45 rang Saint-Joseph\nSainte-Marie", city="Sainte-Marie"
	)
	member = osticket.user("Paul Gagnon", org_id=org)
	with_address = osticket.user("Luc Gagnon", org_id=org, address="3 rue Principale", city="Beauce")
	loner = osticket.user("Solo")
	osticket.ticket("member", user_id=member)
	osticket.ticket("own address", user_id=with_address)
	osticket.ticket("no organization", user_id=loner)

	by_user = selection(osticket)
	assert [t.account_id for t in by_user] == [member, with_address, loner]
	assert [(t.address, t.city) for t in by_user] == [
		("45 rang Saint-Joseph\nSainte-Marie", "Sainte-Marie"),  # the organization's, the user has none
		("3 rue Principale", "Beauce"),
		(None, None),
	]
	by_org = selection(osticket, customer_key="organization")
	assert [t.account_id for t in by_org] == [org, org, None]
	assert [(t.address, t.city) for t in by_org] == [
		("45 rang Saint-Joseph\nSainte-Marie", "Sainte-Marie"),
		("45 rang Saint-Joseph\nSainte-Marie", "Sainte-Marie"),  # the organization's first
		(None, None),
	]
	directory = Directory(customers={str(org): ["CUST-GAGNON"]})
	mapped = [map_ticket(t, Config(), directory) for t in by_org]
	assert [(m.fields["customer"], m.customer_match) for m in mapped] == [
		("CUST-GAGNON", "matched"),
		("CUST-GAGNON", "matched"),
		(None, "internal"),
	]
	assert mapped[0].fields["subject"] == "member — 45 rang Saint-Joseph Sainte-Marie, Sainte-Marie"


def test_tickets_that_left_the_selection(osticket):
	closed, deleted, purged, reassigned = (
		osticket.ticket(s) for s in ("closed", "deleted", "purged", "moved")
	)
	osticket.set_status(closed, "Closed")
	osticket.set_status(deleted, "Deleted")
	osticket.delete(purged)
	osticket.update(reassigned, staff_id=12)
	with osticket.open() as source:
		assert list(source.open_tickets(3301)) == []
		found = source.tickets_by_id([closed, deleted, purged, reassigned])
	assert sorted(found) == [closed, deleted, reassigned]
	assert (found[closed].status, found[deleted].status, found[reassigned].status) == (
		"closed",
		"deleted",
		"open",
	)
	assert found[reassigned].assign_to == 12


def test_plan_end_to_end(osticket):
	site = Site()
	a, b = osticket.ticket("A", dept_id=1), osticket.ticket("B", dept_id=2, duedate="2026-03-02 10:00:00")
	first = site.run(osticket)
	assert {k: d.action for k, d in first.items()} == {str(a): CREATE, str(b): CREATE}
	assert site.job(b).values["job_type"] == "Réparation"
	assert site.job(b).values["scheduled_date"] == date(2026, 3, 2)  # server in UTC: 05:00 in Toronto
	osticket.set_status(a, "Resolved")
	second = site.run(osticket)
	assert (second[str(a)].action, second[str(a)].reason) == (CANCEL, "ticket closed in legacy")
	assert second[str(b)].action == UNCHANGED


def test_departments_version_and_read_only_session(osticket):
	with osticket.open() as source:
		assert source.departments() == [(1, "Installation"), (2, "Réparation"), (3, "Support")]
		assert "MariaDB" in source.server_version()
		with pytest.raises(MySQLdb.OperationalError, match="READ ONLY"):
			source.db.cursor().execute("UPDATE ost_ticket SET dept_id = 2")


def test_table_prefix(server):
	db = OsTicket(server, "osticket_prefix", prefix="help_")
	try:
		ticket_id = db.ticket("prefixed", "low")
		with open_source("osTicket", db.conn, {"table_prefix": "help_"}) as source:
			[t] = source.open_tickets(3301)
		assert (t.id, t.subject, t.priority) == (ticket_id, "prefixed", "low")
		with pytest.raises(LegacyError, match=r"doesn't exist"):
			with open_source("osTicket", db.conn, {}) as source:  # default ost_
				list(source.open_tickets(3301))
	finally:
		db.admin.close()


@pytest.mark.parametrize(
	"options, message",
	[
		({"table_prefix": "ost_`; DROP"}, "invalid table prefix"),
		({"assignee": "group"}, "assignee must be 'staff' or 'team'"),
		({"customer_key": "email"}, "customer key must be 'user' or 'organization'"),
	],
)
def test_invalid_options(osticket, options, message):
	with pytest.raises(LegacyError, match=message):
		open_source("osTicket", osticket.conn, options)


def test_open_source_profiles(osticket):
	assert type(open_source(None, osticket.conn)) is LegacyDB
	assert type(open_source("gestionclient", osticket.conn, {"table_prefix": "x_"})) is LegacyDB
	source = open_source("osticket", osticket.conn, {"table_prefix": "", "assignee": "Team", "query": None})
	assert type(source) is OsTicketDB
	assert (source.prefix, source.assignee, source.customer_key) == ("ost_", "team", "user")
	with pytest.raises(LegacyError, match="unknown legacy source 'zendesk'"):
		open_source("zendesk", osticket.conn)


def test_the_osticket_grants_in_the_readme_are_enough(osticket, server):
	grants = [g for g in README.read_text().splitlines() if g.startswith("GRANT SELECT") and "osticket." in g]
	database = osticket.conn.database
	cur = server.admin().cursor()
	cur.execute("CREATE USER IF NOT EXISTS ost_bridge IDENTIFIED BY 'pw'")
	for grant in grants:
		cur.execute(
			grant.replace("osticket.", f"`{database}`.").replace(
				"'erp_bridge'@'erp-server-address'", "ost_bridge"
			)
		)
	org = osticket.organization("Ferme", address="1 rang Nord", city="Beauce")
	ticket_id = osticket.ticket(
		"Pose", "emergency", user_id=osticket.user(org_id=org), duedate="2026-06-15 08:00:00"
	)
	conn = replace(osticket.conn, user="ost_bridge", password="pw")
	with OsTicketDB(conn) as source:
		[t] = source.open_tickets(3301)
		assert source.departments()[0] == (1, "Installation")
	assert (t.id, t.subject, t.priority, t.city) == (ticket_id, "Pose", "urgent", "Beauce")
	osticket.drop_cdata()
	with OsTicketDB(conn) as source:
		assert [t.subject for t in source.open_tickets(3301)] == ["Pose"]


def test_accounts_are_osticket_users_or_organizations(osticket):
	org = osticket.organization("Fromagerie Roy")
	user = osticket.user("Marie Tremblay", org_id=org)
	with osticket.open() as source:
		assert source.accounts([user]) == {user: ("Marie Tremblay", None, None)}
	with osticket.open(customer_key="organization") as source:
		assert source.accounts([org]) == {org: ("Fromagerie Roy", None, None)}
