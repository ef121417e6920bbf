"""SPEC §4 mapping rules, each shown on a ticket written to and read back from the real MariaDB."""

from datetime import UTC, date, datetime, time

import pytest

from legacy_dispatch.core.mapping import Config, Department, Directory, Location, Ticket, fold, map_ticket


def epoch(*utc) -> int:
	return int(datetime(*utc, tzinfo=UTC).timestamp())


def mapped(legacy, config=None, directory=None, **cols):
	"""Write one ticket, read the selection back through the reader, map it."""
	ticket_id = legacy.ticket(**cols)
	config = config or Config()
	with legacy.open() as source:
		ticket = source.tickets_by_id([ticket_id])[ticket_id]
	return map_ticket(ticket, config, directory or Directory())


@pytest.mark.parametrize(
	"utc, expected",
	[
		((2026, 11, 24, 4, 30), date(2026, 11, 23)),  # 23:30 in Toronto (EST) is already the 24th in UTC
		((2026, 7, 15, 3, 30), date(2026, 7, 14)),  # 23:30 EDT
		((2026, 3, 8, 6, 59), date(2026, 3, 8)),  # spring forward day: 01:59 EST
		((2026, 3, 8, 7, 0), date(2026, 3, 8)),  # 03:00 EDT, the hour 02:00 does not exist
		((2026, 3, 9, 3, 30), date(2026, 3, 8)),  # 23:30 EDT, the evening of the change
		((2026, 3, 8, 4, 30), date(2026, 3, 7)),  # 23:30 EST the evening before
		((2026, 11, 1, 5, 30), date(2026, 11, 1)),  # fall back day: first 01:30 (EDT)
		((2026, 11, 1, 6, 30), date(2026, 11, 1)),  # second 01:30 (EST)
		((2026, 11, 2, 4, 30), date(2026, 11, 1)),  # 23:30 EST the evening of the change
		((2026, 11, 1, 3, 30), date(2026, 10, 31)),  # 23:30 EDT the evening before
	],
)
def test_due_date_is_taken_in_toronto(legacy, utc, expected):
	m = mapped(legacy, due_date=epoch(*utc))
	assert m.fields["scheduled_date"] == expected
	assert m.warnings == []


def test_time_zone_is_a_setting(legacy):
	m = mapped(legacy, Config(time_zone="UTC"), due_date=epoch(2026, 11, 24, 4, 30))
	assert m.fields["scheduled_date"] == date(2026, 11, 24)


@pytest.mark.parametrize("raw", [0, None])
def test_no_due_date(legacy, raw):
	m = mapped(legacy, due_date=raw)
	assert m.fields["scheduled_date"] is None
	assert m.warnings == []


def test_negative_due_date_is_bad_input(legacy):
	m = mapped(legacy, due_date=-86400)
	assert m.fields["scheduled_date"] is None
	assert m.warnings == ["due_date: unusable value -86400, no scheduled date"]


@pytest.mark.parametrize(
	"raw, expected",
	[
		("14:05", time(14, 5)),
		("09:30", time(9, 30)),
		("7:15", time(7, 15)),
		("00:00", time(0, 0)),
		("am", time(8, 0)),
		(" AM ", time(8, 0)),
		("pm", time(13, 0)),
		("Pm", time(13, 0)),
		(" PM ", time(13, 0)),
		("day", None),
		(" DAY", None),
		("", None),
		("   ", None),
		(None, None),
	],
)
def test_due_time_forms(legacy, raw, expected):
	m = mapped(legacy, due_time=raw)
	assert m.fields["start_time"] == expected
	assert m.warnings == []


@pytest.mark.parametrize("raw", ["25:99", "24:00", "12:60", "9h30", "midi", "noon", "1230", "am pm"])
def test_invalid_due_time_warns_and_leaves_no_time(legacy, raw):
	m = mapped(legacy, due_time=raw)
	assert m.fields["start_time"] is None
	assert m.warnings == [f"due_time: unusable value {raw!r}, no start time"]


@pytest.mark.parametrize(
	"raw, expected, warned",
	[
		(1, "low", False),
		(2, "medium", False),
		(3, "high", False),
		(9, "high", False),
		(99, "high", False),
		(0, "medium", True),
		(-1, "medium", True),
	],
)
def test_priority(legacy, raw, expected, warned):
	m = mapped(legacy, priority=raw)
	assert m.fields["priority"] == expected
	assert m.warnings == ([f"priority: unusable value {raw}, set to medium"] if warned else [])


def test_long_subject_is_cut_to_140_and_kept_whole_in_note(legacy):
	subject = "Coupure complète " + "x" * 200 + " fin"
	m = mapped(legacy, subject=subject)
	assert len(m.fields["subject"]) == 140
	assert m.fields["subject"].endswith("…")
	assert subject.startswith(m.fields["subject"][:-1])
	assert m.fields["note"] == subject


def test_identity_status_and_keys(legacy):
	m = mapped(legacy, id=4242, subject="Panne")
	assert m.fields["ticket_id"] == "LEG-4242"
	assert m.fields["status"] == "open"
	assert m.ticket.id == 4242


@pytest.fixture
def directory():
	return Directory(
		customers={"1001": ["Marie Tremblay"], "1004": ["Paul Côté", "Paul Cote (2)"]},
		locations={
			"Marie Tremblay": [
				Location("SL-2", "Laval", 45.6, -73.7),
				Location("SL-1", "Saint-Jérôme", 45.78, -74.0),
			]
		},
	)


def test_customer_and_location_matched_by_city_ignoring_case_and_accents(legacy, directory):
	legacy.account(1001, address1="12 rue Principale", city="SAINT-JEROME ")
	m = mapped(legacy, directory=directory, account_id=1001, subject="Panne")
	assert (m.fields["customer"], m.fields["service_location"]) == ("Marie Tremblay", "SL-1")
	assert (m.fields["latitude"], m.fields["longitude"]) == (45.78, -74.0)
	assert m.fields["subject"] == "Panne"  # no address when a location matched
	assert (m.customer_match, m.location_match) == ("matched", "matched")


def test_no_city_match_puts_the_address_in_the_subject(legacy, directory):
	legacy.account(1001, address1="3 rue du Lac", city="Mirabel")
	m = mapped(legacy, directory=directory, account_id=1001, subject="Panne")
	assert m.fields["customer"] == "Marie Tremblay"
	assert m.fields["service_location"] is None
	assert m.fields["latitude"] is None
	assert m.fields["subject"] == "Panne — 3 rue du Lac, Mirabel"
	assert m.location_match == "no city match"


def test_unmatched_customer_is_left_empty_and_reported(legacy, directory):
	legacy.account(2002, address1="8 chemin du Lac", city="Mirabel")
	m = mapped(legacy, directory=directory, account_id=2002, subject="Panne")
	assert m.fields["customer"] is None
	assert m.customer_match == "unmatched"
	assert m.fields["subject"] == "Panne — 8 chemin du Lac, Mirabel"


@pytest.mark.parametrize("account", [0, None])
def test_internal_ticket_has_no_customer(legacy, directory, account):
	m = mapped(legacy, directory=directory, account_id=account)
	assert m.fields["customer"] is None
	assert m.customer_match == "internal"


def test_account_claimed_by_two_customers_sets_none_and_warns(legacy, directory):
	m = mapped(legacy, directory=directory, account_id=1004)
	assert m.fields["customer"] is None
	assert m.customer_match == "ambiguous"
	assert "claimed by 2 customers" in m.warnings[0]


def test_two_locations_in_the_same_city_take_the_first_and_warn(legacy):
	d = Directory({"7": ["C"]}, {"C": [Location("SL-9", "Laval"), Location("SL-3", "LAVAL")]})
	legacy.account(7, city="Laval")
	m = mapped(legacy, directory=d, account_id=7)
	assert m.fields["service_location"] == "SL-3"
	assert "2 locations" in m.warnings[0]


@pytest.mark.parametrize(
	"dept_name, job_type, duration",
	[
		("Installation", "Installation", 2.0),
		("Réparation", "Réparation", 1.5),
		("REPARATION", "Réparation", 1.5),
		("Retrait", "Retrait", 1.0),
		("Fibre", "Autre", 1.0),
		(None, "Autre", 1.0),  # department row missing in legacy
	],
)
def test_job_type_and_duration_from_the_department(legacy, dept_name, job_type, duration):
	if dept_name:
		legacy.dept(40, dept_name)
	m = mapped(legacy, dept_id=40)
	assert (m.fields["job_type"], m.fields["duration_h"]) == (job_type, duration)


def test_department_map_and_durations_are_settings(legacy):
	config = Config(
		departments={
			3: Department(3, "Fibre", "Installation", None, True),
			4: Department(4, "X", "Retrait", 3.5),
		},
		durations={"Installation": 2.5},
	)
	assert mapped(legacy, config, dept_id=3).fields["duration_h"] == 2.5
	assert mapped(legacy, config, dept_id=3).fields["job_type"] == "Installation"
	assert mapped(legacy, config, dept_id=4).fields["duration_h"] == 3.5
	unknown = mapped(legacy, config, dept_id=99)
	assert unknown.fields["job_type"] == "Autre"
	assert unknown.included
	assert "not in the department map" in unknown.warnings[0]
	excluded = Config(departments={5: Department(5, "ToDo", "Autre", None, False)})
	assert not mapped(legacy, excluded, dept_id=5).included


@pytest.mark.parametrize(
	"raw, expected",
	[
		(None, "Ticket LEG-1"),
		("", "Ticket LEG-1"),
		("   \t ", "Ticket LEG-1"),
		("<b>Panne</b> &amp; bruit", "Panne & bruit"),
		("a < b > c", "a ‹ b › c"),
		("ligne 1\nligne 2\r\n", "ligne 1 ligne 2"),
		("Fibre coupée 🔥", "Fibre coupée 🔥"),
	],
)
def test_subject_is_plain_text(legacy, raw, expected):
	m = mapped(legacy, id=1, subject=raw)
	assert m.fields["subject"] == expected
	assert bool(m.warnings) == expected.startswith("Ticket LEG")


def test_fold():
	assert fold(" Saint-Jérôme ") == fold("SAINT JEROME") == "saint jerome"
	assert fold(None) == ""


def test_far_future_due_date_is_kept(legacy):
	m = mapped(legacy, due_date=2147483647)  # the INT column's maximum, 2038-01-19 03:14:07 UTC
	assert m.fields["scheduled_date"] == date(2038, 1, 18)
	assert m.warnings == []


def test_city_null_matches_no_location_and_adds_only_the_address(legacy, directory):
	legacy.account(1001, address1="12 rue Principale", city=None)
	m = mapped(legacy, directory=directory, account_id=1001, subject="Panne")
	assert (m.fields["service_location"], m.location_match) == (None, "no city match")
	assert m.fields["subject"] == "Panne — 12 rue Principale"


def test_department_null_from_a_source_is_autre():
	m = map_ticket(Ticket(id=1, dept_id=None), Config(), Directory())
	assert (m.fields["job_type"], m.fields["duration_h"], m.included) == ("Autre", 1.0, True)


@pytest.mark.parametrize("raw", ["low", "medium", "High", " urgent "])
def test_priority_level_names_from_other_sources_are_kept(raw):
	m = map_ticket(Ticket(1, subject="s", priority=raw), Config(), Directory())
	assert (m.fields["priority"], m.warnings) == (raw.strip().lower(), [])


def test_a_date_instead_of_an_epoch_is_bad_input():
	m = map_ticket(Ticket(1, subject="s", due_date=datetime(2026, 11, 24)), Config(), Directory())
	assert m.fields["scheduled_date"] is None
	assert m.warnings == ["due_date: unusable value datetime.datetime(2026, 11, 24, 0, 0), no scheduled date"]
