"""The custom profile: a System Manager's SELECT, checked before it runs, read in the read-only session."""

from datetime import UTC, date, datetime

import MySQLdb
import pytest

from legacy_dispatch.core.custom_query import CustomQueryDB, check_query, code_of, validate_custom_query
from legacy_dispatch.core.legacy import LegacyError
from legacy_dispatch.core.mapping import Config, Department, Directory, map_ticket
from legacy_dispatch.core.planner import CANCEL, CREATE
from legacy_dispatch.core.sources import open_source
from legacy_dispatch.core.tests.planner_test import Site

# gestionclient's own schema, written as a custom query: it must read what LegacyDB reads
GESTIONCLIENT = """
	SELECT t.id, t.account_id, t.dept_id, t.subject, t.status, t.priority, t.assign_to,
		t.due_date, t.due_time, t.last_update, a.address1 AS address, a.city, a.zip, d.name AS dept_name
	FROM ticket t
	LEFT JOIN account a ON a.id = t.account_id
	LEFT JOIN dept d ON d.id = t.dept_id
"""

# Another schema: DATETIME due dates, priorities as words, a tech's login instead of an id
OTHER_SCHEMA = """
	CREATE TABLE intervention (
		num INT UNSIGNED NOT NULL PRIMARY KEY,
		client VARCHAR(20),
		kind VARCHAR(40),
		title VARCHAR(200),
		done TINYINT(1) NOT NULL DEFAULT 0,
		urgency VARCHAR(10),
		tech VARCHAR(20),
		due DATETIME,
		street VARCHAR(100),
		town VARCHAR(100)
	)
"""
OTHER_QUERY = """
	-- field work of the fibre team; 'due' is in the server's time zone
	SELECT i.num AS id, i.client AS account_id, i.title AS subject,
		IF(i.done, 'closed', 'open') AS status,
		CASE i.urgency WHEN 'P1' THEN 'urgent' WHEN 'P2' THEN 'high' ELSE 'medium' END AS priority,
		3301 AS assign_to,
		UNIX_TIMESTAMP(i.due) AS due_date, DATE_FORMAT(i.due, '%H:%i') AS due_time,
		i.street AS address, i.town AS city,
		IF(i.kind LIKE 'Install%', 1, 2) AS dept_id, i.kind AS dept_name
	FROM intervention i
	WHERE i.tech = 'fibre';  -- trailing ';' is fine
"""


def custom(legacy, query, **kw) -> CustomQueryDB:
	return CustomQueryDB(legacy.conn, query, **kw)


def test_gestionclient_as_a_custom_query_reads_the_same_tickets(legacy):
	legacy.account(9, address1="12 rue des Érables", city="Lévis", zip="G6V 1A1")
	legacy.dept(1, "Installation")
	ids = [
		legacy.ticket(account_id=9, subject="Pose", priority=3, due_date=1795494600, due_time="pm"),
		legacy.ticket(subject="autre", assign_to=12),
		legacy.ticket(subject="fermé", status="closed"),
		legacy.ticket(subject="interne", account_id=0, dept_id=404),
	]
	with legacy.open() as source:
		expected = (list(source.open_tickets(3301)), source.tickets_by_id(ids))
	with custom(legacy, GESTIONCLIENT) as source:
		assert (list(source.open_tickets(3301)), source.tickets_by_id(ids)) == expected
		assert source.departments() == [(1, "Installation"), (404, "")]  # those of the query's tickets
	assert [t.subject for t in expected[0]] == ["Pose", "interne"]
	assert sorted(expected[1]) == ids


def test_validate_returns_the_columns(legacy):
	assert validate_custom_query(legacy.conn, GESTIONCLIENT) == [
		"id", "account_id", "dept_id", "subject", "status", "priority", "assign_to",
		"due_date", "due_time", "last_update", "address", "city", "zip", "dept_name",
	]  # fmt: skip
	assert validate_custom_query(legacy.conn, "SELECT id, subject, status, assign_to, due_date FROM ticket") == [
		"id", "subject", "status", "assign_to", "due_date"
	]  # fmt: skip


def test_another_schema_maps_end_to_end(legacy, server_time_zone):
	server_time_zone("-05:00")
	legacy.sql(OTHER_SCHEMA)
	rows = [
		(1, "C-9", "Installation fibre", 0, "P1", "fibre", "2026-11-23 20:00:00", "1 rue A", "Lévis"),
		(2, "", "Réparation; câble coupé", 0, "P3", "fibre", None, None, None),
		(3, "C-9", "déjà faite", 1, "P2", "fibre", None, None, None),
		(4, "C-9", "autre équipe", 0, "P2", "cuivre", None, None, None),
	]
	for row in rows:
		legacy.sql("INSERT INTO intervention (num, client, title, done, urgency, tech, due, street, town, kind) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, IF(%s = 1, 'Installation', 'Réparation'))", (*row, row[0]))  # fmt: skip
	with open_source("custom", legacy.conn, {"query": OTHER_QUERY, "table_prefix": "ost_"}) as source:
		tickets = list(source.open_tickets(3301))
		assert source.departments() == [(1, "Installation"), (2, "Réparation")]
	assert [t.id for t in tickets] == [1, 2]
	config = Config(departments={1: Department(1, "Installation", "Installation")})
	first, second = (map_ticket(t, config, Directory(customers={"C-9": ["CUST-9"]})) for t in tickets)
	assert first.fields["customer"] == "CUST-9"
	assert first.fields["priority"] == "urgent"
	assert first.fields["scheduled_date"] == date(2026, 11, 23)  # 20:00 at -05:00 is 01:00 UTC the 24th
	assert str(first.fields["start_time"]) == "20:00:00"
	assert first.fields["job_type"] == "Installation"
	assert first.fields["subject"] == "Installation fibre — 1 rue A, Lévis"
	assert first.warnings == []
	assert (second.ticket.account_id, second.customer_match) == (None, "internal")
	assert (second.fields["priority"], second.fields["scheduled_date"], second.fields["job_type"]) == (
		"medium",
		None,
		"Réparation",
	)

	site = Site()
	assert {d.action for d in site.run(_Custom(legacy, OTHER_QUERY)).values()} == {CREATE}
	legacy.sql("UPDATE intervention SET done = 1 WHERE num = 1")
	legacy.sql("DELETE FROM intervention WHERE num = 2")
	decisions = site.run(_Custom(legacy, OTHER_QUERY))
	assert (decisions["1"].action, decisions["1"].reason) == (CANCEL, "ticket closed in legacy")
	assert (decisions["2"].action, decisions["2"].reason) == (CANCEL, "ticket deleted in legacy")


class _Custom:
	"""What Site.run needs: `open()` giving the source."""

	def __init__(self, legacy, query):
		self.legacy, self.query = legacy, query

	def open(self):
		return custom(self.legacy, self.query)


@pytest.mark.parametrize(
	"query",
	[
		"UPDATE ticket SET subject = 'x'",
		"DELETE FROM ticket",
		"INSERT INTO ticket (id) VALUES (1)",
		"REPLACE INTO ticket (id) VALUES (1)",
		"CALL purge_tickets()",
		"  -- a comment first\n  TRUNCATE ticket",
		"SET SESSION TRANSACTION READ WRITE",
		"DROP TABLE ticket",
		"LOAD DATA INFILE '/tmp/x' INTO TABLE ticket",
		"SHOW TABLES",
		"VALUES (1, 'x', 'open', 3301, 0)",
	],
)
def test_only_a_select(legacy, query):
	word = query.split("\n")[-1].split()[0]
	with pytest.raises(
		LegacyError, match=rf"custom query: it must be a SELECT \(or WITH \.\.\. SELECT\), not {word}"
	):
		validate_custom_query(legacy.conn, query)


@pytest.mark.parametrize(
	"query, line",
	[
		("SELECT id, subject, status, assign_to, due_date FROM ticket; DELETE FROM ticket", 1),
		("SELECT id, subject, status, assign_to, due_date FROM ticket;\nSELECT 1;", 1),
		(
			"SELECT id, subject, status, assign_to, due_date\nFROM ticket WHERE subject = 'a;b' ; UPDATE ticket SET subject = ''",
			2,
		),
	],
)
def test_one_statement_only(legacy, query, line):
	legacy.ticket(subject="kept")
	with pytest.raises(
		LegacyError, match=rf"custom query: one statement only: remove the ';' on line {line}"
	):
		validate_custom_query(legacy.conn, query)
	with legacy.open() as source:
		assert [t.subject for t in source.open_tickets(3301)] == ["kept"]


@pytest.mark.parametrize(
	"query",
	[
		"SELECT id, subject, status, assign_to, due_date FROM ticket;",
		"SELECT id, subject, status, assign_to, due_date FROM ticket ;  -- done;",
		"SELECT id, 'a;b' AS subject, status, assign_to, due_date FROM ticket",
		'SELECT id, "a;\\"b" AS subject, status, assign_to, due_date FROM ticket /* ; */',
		"SELECT `id`, subject, status, assign_to, due_date FROM ticket AS `t;x` # ;\n",
		"WITH t AS (SELECT * FROM ticket) SELECT id, subject, status, assign_to, due_date FROM t",
		"(SELECT id, subject, status, assign_to, due_date FROM ticket) UNION (SELECT 0, 'x', 'closed', 0, 0)",
	],
)
def test_semicolons_in_strings_comments_or_at_the_end(legacy, query):
	assert validate_custom_query(legacy.conn, query) == ["id", "subject", "status", "assign_to", "due_date"]


@pytest.mark.parametrize(
	"query, message",
	[
		("SELECT id, subject FROM ticket", "required column(s) missing: status, assign_to, due_date"),
		("SELECT * FROM ticket", "unknown column(s): date_create, date_closed"),
		(
			"SELECT id, subject, status, assign_to, due_date, due_date AS due_dat FROM ticket",
			"unknown column(s): due_dat (the normalised columns are id, account_id",
		),
		(
			"SELECT id, subject, status, assign_to, FROM_UNIXTIME(due_date) AS due_date FROM ticket",
			"due_date must be Unix epoch seconds, not a date: use UNIX_TIMESTAMP(...) AS due_date",
		),
		(
			"SELECT CONCAT('T', id) AS id, subject, status, assign_to, due_date FROM ticket",
			"id must be an integer column",
		),
	],
)
def test_columns(legacy, query, message):
	with pytest.raises(LegacyError) as e:
		validate_custom_query(legacy.conn, query)
	assert str(e.value).startswith("custom query: " + message)


@pytest.mark.parametrize(
	"query, message",
	[
		("", "it is empty"),
		("  ;  ", "it is empty"),
		("SELECT * FROM ticket INTO OUTFILE '/tmp/tickets'", "INTO is not allowed: the query only reads"),
		("SELECT * FROM ticket FOR  UPDATE", "FOR UPDATE is not allowed"),
		("SELECT * FROM ticket LOCK IN SHARE MODE", "LOCK IN SHARE MODE is not allowed"),
		("SELECT 1 /*! ; DELETE FROM ticket */", "executable comments"),
		("SELECT 1 /*M!100000 , 2 */", "executable comments"),
		("SELECT id FROM ticket) q, (SELECT 1", "its parentheses do not balance"),
		("SELECT 'unterminated FROM ticket", "a string, quoted name or comment is not closed"),
		("SELECT 1 /* unterminated", "a string, quoted name or comment is not closed"),
	],
)
def test_rejected_before_running(query, message):
	with pytest.raises(LegacyError, match="custom query: " + message.replace("(", r"\(").replace(")", r"\)")):
		check_query(query)


# After '--', MariaDB starts a comment before a space or any control character (sql_lex.cc:
# my_isspace or my_iscntrl), or at the end of the query: a quote in such a comment opens no string.
@pytest.mark.parametrize("after", [" ", "\t", "\r", "\x0b", "\x01", "\x1f", "\x7f"])
def test_a_quote_in_a_dash_dash_comment_hides_nothing(after):
	with pytest.raises(LegacyError, match="custom query: FOR UPDATE is not allowed"):
		check_query(f"SELECT 1 AS id --{after}'\nFOR UPDATE -- '")


@pytest.mark.parametrize(
	"query",
	[
		"SELECT 1 AS id --\x01 '\nFOR UPDATE -- '",  # the guard used to read a string from ' to '
		"SELECT 1 AS id --\nFOR UPDATE",
		"SELECT 1 AS id FOR UPDATE --",  # '--' at the very end
		"SELECT 1 AS id -- x\x00 FOR UPDATE",  # a NUL ends a comment too
		"SELECT 1 AS id # x\x00 FOR UPDATE",
		"SELECT 1 AS id # '\nFOR UPDATE -- '",  # '#' up to the end of the line
		"SELECT 1 AS id /* ' */ FOR UPDATE /* ' */",
		"SELECT 1--1 AS id FOR UPDATE -- '",  # '--' before a digit: arithmetic
		"SELECT 1 AS id, a--b FOR UPDATE -- '",  # and before a letter
		"SELECT 'it''s' AS id FOR UPDATE -- '",  # a doubled quote
		r"SELECT 'a\\' AS id FOR UPDATE -- '",  # an escaped backslash, then the closing quote
		'SELECT "a\\"b" AS id FOR UPDATE -- "',
		"SELECT 1 AS `a``b` FOR UPDATE -- `",
	],
)
def test_comments_and_quotes_as_mariadb_reads_them(query):
	with pytest.raises(LegacyError, match="custom query: FOR UPDATE is not allowed"):
		check_query(query)


@pytest.mark.parametrize(
	"query",
	[
		"SELECT 'a\\' FOR UPDATE' AS id",  # \' is a quote inside the string
		"SELECT 1 AS id --\x01 FOR UPDATE",
		"SELECT 1 AS id --\x1f FOR UPDATE\n",
		"SELECT 1 AS id --\tFOR UPDATE",
		"SELECT 1 AS id --\x7f FOR UPDATE",
		"SELECT 1 AS id # FOR UPDATE",
		'SELECT 1 AS `FOR UPDATE`, "FOR UPDATE" AS x',
	],
)
def test_what_only_looks_like_a_lock(query):
	check_query(query)


def test_dash_dash_comments_as_the_server_reads_them(server):
	"""For every ASCII character (and a few Unicode spaces) after '--': the guard sees a comment
	exactly when MariaDB does (a NUL, which ends a comment and then fails, is tested above)."""
	db = server.admin()
	cur = db.cursor()
	differ = []
	for c in [*map(chr, range(1, 0x80)), "\x85", "\xa0", "\u2028", "\u3000"]:
		query = f"SELECT 6 AS a --{c}\n, 7 AS b"  # runs only if '--' starts a comment
		try:
			cur.execute(query)
			server_comment = cur.fetchall() == ((6, 7),)
		except MySQLdb.Error:
			server_comment = False
		try:
			guard_comment = code_of(query)[14:16] == "  "
		except LegacyError:  # a quote that is not closed
			guard_comment = False
		if server_comment != guard_comment:
			differ.append((c, server_comment))
	db.close()
	assert differ == []


def test_dash_dash_before_a_digit_is_arithmetic(legacy):
	query = "SELECT 3--1 AS id, 's' AS subject, 'open' AS status, 3301 AS assign_to, 0 AS due_date --\x01 ;'"
	with custom(legacy, query) as source:
		assert [t.id for t in source.open_tickets(3301)] == [4]


def test_a_sneaky_write_fails_in_the_read_only_session(legacy):
	legacy.ticket(subject="kept")
	legacy.sql(
		"CREATE FUNCTION sneaky() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE ticket SET subject = 'pwned'; RETURN 2; END"
	)
	query = "SELECT id, subject, status, assign_to, due_date, sneaky() AS priority FROM ticket"
	with pytest.raises(LegacyError, match=r"\[1792\] Cannot execute statement in a READ ONLY transaction"):
		validate_custom_query(legacy.conn, query)
	with legacy.open() as source:
		assert [t.subject for t in source.open_tickets(3301)] == ["kept"]


def test_the_connection_runs_one_statement_per_call(legacy):
	with custom(legacy, GESTIONCLIENT) as source:
		with pytest.raises(MySQLdb.ProgrammingError, match="1064"):
			source.db.cursor().execute("SELECT 1; SELECT 2")


def test_a_query_that_does_not_run_says_why(legacy):
	with pytest.raises(LegacyError, match=r"error \[1146\] Table '.*\.tickets' doesn't exist"):
		validate_custom_query(legacy.conn, "SELECT id, subject, status, assign_to, due_date FROM tickets")


def test_preview_row_limit(legacy):
	ids = [legacy.ticket() for _ in range(5)]
	with open_source("custom", legacy.conn, {"query": GESTIONCLIENT, "row_limit": 2}) as source:
		assert [t.id for t in source.open_tickets(3301)] == ids[:2]
		assert sorted(source.tickets_by_id(ids)) == ids  # the look-up by id is not limited
	with open_source("custom", legacy.conn, {"query": GESTIONCLIENT, "row_limit": 0}) as source:
		assert len(list(source.open_tickets(3301))) == 5


def test_a_row_without_id(legacy):
	with pytest.raises(LegacyError, match=r"custom query: a row has no id \(NULL\)"):
		with custom(legacy, "SELECT CAST(NULL AS UNSIGNED) AS id, 's' AS subject, 'open' AS status, 3301 AS assign_to, 0 AS due_date") as source:  # fmt: skip
			list(source.open_tickets(3301))


def test_epoch_values_as_text_and_levels_in_any_case(legacy):
	query = "SELECT 7 AS id, 's' AS subject, 'open' AS status, 3301 AS assign_to, '1795494600' AS due_date, ' High ' AS priority"
	with custom(legacy, query) as source:
		[t] = source.open_tickets(3301)
	m = map_ticket(t, Config(), Directory())
	assert (m.fields["scheduled_date"], m.fields["priority"], m.warnings) == (date(2026, 11, 23), "high", [])
	assert datetime.fromtimestamp(1795494600, UTC).date() == date(2026, 11, 24)


def test_a_custom_query_has_no_account_table(legacy):
	with CustomQueryDB(legacy.conn, "SELECT id, subject, status, assign_to, due_date FROM ticket") as source:
		assert source.accounts([1]) == {}
