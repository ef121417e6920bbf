"""Read any legacy schema through one SELECT written by a System Manager (profile `custom`).

The query returns the normalised columns, `Ticket`'s fields (the README lists
them). The bridge wraps it as a derived table and filters it itself:

	SELECT q.id, ... FROM (<query>) q WHERE q.status = 'open' AND q.assign_to = <staff id>
	SELECT q.id, ... FROM (<query>) q WHERE q.id IN (...)

It is checked before it runs (one statement, a SELECT, nothing that writes or
locks) and, once the read-only session is open, run with LIMIT 0 to check the
columns it returns. Every rejection is a `LegacyError` saying what to change.
"""

import re
from dataclasses import fields

from MySQLdb.constants import FIELD_TYPE

from .legacy import Connection, LegacyDB, LegacyError, text
from .mapping import Ticket

COLUMNS = tuple(f.name for f in fields(Ticket))
REQUIRED = ("id", "subject", "status", "assign_to", "due_date")
EPOCH_COLUMNS = ("due_date", "last_update")

INTEGER_TYPES = {FIELD_TYPE.TINY, FIELD_TYPE.SHORT, FIELD_TYPE.LONG, FIELD_TYPE.LONGLONG, FIELD_TYPE.INT24}
DECIMAL_TYPES = {FIELD_TYPE.DECIMAL, FIELD_TYPE.NEWDECIMAL}
DATE_TYPES = {FIELD_TYPE.DATE, FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP, FIELD_TYPE.TIME}

# Strings, quoted names and comments, as MariaDB's lexer (sql_lex.cc) reads them: '--' starts a
# comment only before a space or a control character (my_isspace/my_iscntrl: 0x00-0x20, 0x7F) or
# at the end of the query; '--' and '#' comments end at a newline or a NUL.
QUOTED = re.compile(
	r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`(?:[^`]|``)*`|/\*.*?\*/|(?:--(?=[\x00-\x20\x7f]|\Z)|\#)[^\n\x00]*""",
	re.S,
)
FORBIDDEN = re.compile(r"\bINTO\b|\bFOR\s+UPDATE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b", re.I)


def fail(message: str):
	raise LegacyError(f"custom query: {message}")


def code_of(query: str) -> str:
	"""The query with its strings and quoted names blanked out as '_', its comments as spaces
	(same length, same lines): what is left is the SQL MariaDB parses."""
	out, i = [], 0
	while i < len(query):
		c = query[i]
		if c in "'\"`#" or query.startswith(("/*", "--"), i):
			m = QUOTED.match(query, i)
			if m:
				if m[0].startswith(("/*!", "/*M!")):
					fail("executable comments (/*! ... */) are not allowed")
				out.append(re.sub(r"[^\n]", " " if m[0][0] in "/-#" else "_", m[0]))
				i = m.end()
				continue
			if c != "-":
				fail("a string, quoted name or comment is not closed")
		out.append(c)
		i += 1
	return "".join(out)


def check_query(query: str | None) -> str:
	"""The query if it is one SELECT (or WITH ... SELECT) that neither writes nor locks;
	a trailing ';' is dropped. Raises LegacyError saying what is wrong."""
	query = (query or "").strip()
	code = code_of(query).rstrip()
	while code.endswith(";"):  # a trailing ';' (and comments after it) is fine
		code = code[:-1].rstrip()
	query = query[: len(code)]
	if not code.strip():
		fail("it is empty: write a SELECT that returns the normalised columns")
	if ";" in code:
		line = code[: code.index(";")].count("\n") + 1
		fail(f"one statement only: remove the ';' on line {line} and what follows it")
	depth = 0
	for c in code:
		depth += {"(": 1, ")": -1}.get(c, 0)
		if depth < 0:
			break
	if depth:
		fail("its parentheses do not balance")
	first = re.match(r"[\s(]*(\w*)", code)[1].upper()
	if first not in ("SELECT", "WITH"):
		fail(f"it must be a SELECT (or WITH ... SELECT), not {first or code.split()[0]}")
	if m := FORBIDDEN.search(code):
		fail(f"{' '.join(m[0].split()).upper()} is not allowed: the query only reads")
	return query


def check_columns(description) -> list[str]:
	"""The normalised column names the query returns (cursor.description), or LegacyError."""
	names = [text(d[0]).lower() for d in description]
	missing = [c for c in REQUIRED if c not in names]
	if missing:
		fail(
			f"required column(s) missing: {', '.join(missing)} (name them with AS, e.g. SELECT t.ticket_id AS id; "
			f"required: {', '.join(REQUIRED)})"
		)
	unknown = [n for n in names if n not in COLUMNS]
	if unknown:
		fail(f"unknown column(s): {', '.join(unknown)} (the normalised columns are {', '.join(COLUMNS)})")
	types = {text(d[0]).lower(): d for d in description}
	kind, scale = types["id"][1], types["id"][5]
	if not (kind in INTEGER_TYPES or (kind in DECIMAL_TYPES and not scale)):
		fail("id must be an integer column (e.g. CAST(... AS UNSIGNED) AS id)")
	for c in EPOCH_COLUMNS:
		if c in types and types[c][1] in DATE_TYPES:
			fail(f"{c} must be Unix epoch seconds, not a date: use UNIX_TIMESTAMP(...) AS {c}")
	return names


def as_int(value):
	"""An integer if the value is one (as text or number), else the value as it is."""
	try:
		return int(value)
	except (TypeError, ValueError):
		return value


class CustomQueryDB(LegacyDB):
	"""A read-only session reading tickets through a custom SELECT. Use as a context manager.

	`row_limit` caps the selection (preview)."""

	def __init__(self, conn: Connection, query: str, row_limit: int | None = None):
		super().__init__(conn)
		self.query = check_query(query)
		self.row_limit = int(row_limit) if row_limit and int(row_limit) > 0 else None
		self.columns: list[str] = []

	def derived(self) -> str:
		"""The query as the derived table `q`; its '%' doubled, as the statements it goes in take parameters."""
		return "(\n" + self.query.replace("%", "%%") + "\n) q"

	def prepare(self):
		cursor = self.execute(self.db.cursor(), f"SELECT * FROM {self.derived()} LIMIT 0", ())
		self.columns = check_columns(cursor.description)
		cursor.close()

	def select(self) -> str:
		return "SELECT " + ", ".join(f"q.`{c}`" for c in self.columns) + " FROM " + self.derived()

	def open_sql(self) -> str:
		limit = f" LIMIT {self.row_limit}" if self.row_limit else ""
		return self.select() + " WHERE q.status = %s AND q.assign_to = %s ORDER BY q.id" + limit

	def ids_sql(self, count: int) -> str:
		return self.select() + " WHERE q.id IN (" + ", ".join(["%s"] * count) + ")"

	def ticket(self, row: tuple) -> Ticket:
		values = dict(zip(self.columns, map(text, row), strict=True))
		if values["id"] is None:
			fail("a row has no id (NULL)")
		values["id"] = int(values["id"])
		if "dept_id" in values:
			values["dept_id"] = as_int(values["dept_id"])
		if isinstance(values.get("account_id"), str) and values["account_id"].strip() in ("", "0"):
			values["account_id"] = None  # '' or '0' as text: an internal ticket, like 0 and NULL
		return Ticket(**values)

	def accounts_sql(self, count: int) -> None:
		return None  # the query is the only schema known: no account table

	def departments(self) -> list[tuple[int, str]]:
		"""The departments the query's tickets are in (the query is the only schema known)."""
		if "dept_id" not in self.columns:
			return []
		name = "MAX(q.dept_name)" if "dept_name" in self.columns else "NULL"
		sql = f"SELECT q.dept_id, {name} FROM {self.derived()} WHERE q.dept_id IS NOT NULL GROUP BY q.dept_id ORDER BY q.dept_id"
		return [(as_int(text(i)), text(n) or "") for i, n in self.rows(sql, ())]


def validate_custom_query(conn: Connection, query: str) -> list[str]:
	"""Check a custom query as the settings save it: statically, then run with LIMIT 0 in the
	read-only session. Returns the normalised columns it returns; raises LegacyError saying
	what is wrong (including the server's message when the query does not run)."""
	with CustomQueryDB(conn, query) as source:
		return source.columns
