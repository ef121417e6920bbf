"""Read the legacy helpdesk (MariaDB `gestionclient`): read-only session, parameterised SQL,
rows streamed in batches.

`LegacyDB` reads the `gestionclient` schema. Another source (osticket.py,
custom_query.py) subclasses it and overrides only its SQL (`open_sql`, `ids_sql`,
`departments_sql`), how a row becomes a `Ticket` (`ticket`) and what the session
needs once open (`prepare`): connecting, the read-only session, streaming and the
error reasons stay here. sources.py picks the reader from the settings.
"""

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass

import MySQLdb
from MySQLdb.cursors import SSCursor

from .mapping import Ticket

BATCH = 1000

TICKET_SELECT = """
	SELECT t.id, t.account_id, t.dept_id, t.subject, t.status, t.priority, t.assign_to,
		t.due_date, t.due_time, t.last_update, a.address1, a.city, a.zip, d.name
	FROM ticket t
	LEFT JOIN account a ON a.id = t.account_id
	LEFT JOIN dept d ON d.id = t.dept_id
"""

# MariaDB client error codes -> what an operator should check
REASONS = {
	1044: "access denied to the database",
	1045: "access denied (wrong user or password)",
	1049: "unknown database",
	1969: "statement took longer than the limit (max_statement_time)",
	2002: "cannot connect to the server",
	2003: "cannot connect to the server",
	2005: "unknown server host",
	2006: "the server went away",
	2013: "connection lost or timed out",
	2026: "TLS error",
}

STATEMENT_TIMEOUT = 300  # seconds, when the connection sets neither statement_timeout nor read_timeout


class LegacyError(Exception):
	"""The legacy database could not be read; the message says why (never the password)."""


class Secret:
	"""A password that never prints: repr() and str() give '********' ('' when empty), so a
	traceback's variables, a log line or an error message cannot show it; `reveal()` gives the
	clear text. Equal to a Secret or a str of the same value; true when one is set."""

	__slots__ = ("_value",)

	def __init__(self, value: "str | Secret | None" = ""):
		self._value = value.reveal() if isinstance(value, Secret) else value or ""

	def reveal(self) -> str:
		"""The clear text, for the one call that needs it (the connection to the server)."""
		return self._value

	def __repr__(self) -> str:
		return "********" if self._value else ""

	__str__ = __repr__

	def __bool__(self) -> bool:
		return bool(self._value)

	def __eq__(self, other) -> bool:
		if isinstance(other, Secret):
			other = other._value
		return self._value == other if isinstance(other, str) else NotImplemented

	def __hash__(self) -> int:
		return hash(self._value)


@dataclass
class Connection:
	host: str = "127.0.0.1"
	port: int = 3306
	user: str = "root"
	password: Secret | str | None = ""  # kept as a Secret: see __post_init__
	database: str = "gestionclient"
	connect_timeout: int = 10
	read_timeout: int | None = None
	unix_socket: str | None = None
	tls: bool = False  # encrypt the connection
	tls_ca: str | None = None  # CA file that signed the server's certificate
	tls_verify: bool = True  # check the certificate and the host name (else: encrypt only)
	statement_timeout: int | None = None  # seconds the server lets a statement run: see statement_limit

	def __post_init__(self):
		if not isinstance(self.password, Secret):
			self.password = Secret(self.password)

	def statement_limit(self) -> int:
		"""Seconds the server lets one statement run (max_statement_time): `statement_timeout`, else
		a little more than `read_timeout` (the client gives up first, with its own error, and the
		server then stops the statement it abandoned), else STATEMENT_TIMEOUT."""
		if self.statement_timeout:
			return int(self.statement_timeout)
		return int(self.read_timeout) + 5 if self.read_timeout else STATEMENT_TIMEOUT

	def describe(self) -> str:
		where = self.unix_socket or f"{self.host}:{self.port}"
		return f"{self.user}@{where}/{self.database}"


def text(value: bytes | str | None) -> str | None:
	"""Column text as str (other values as they are); bytes that are not valid UTF-8 become U+FFFD instead of failing."""
	if isinstance(value, bytes):
		return value.decode("utf-8", errors="replace")
	return value


def ticket_from_row(row) -> Ticket:
	"""TICKET_SELECT's columns are Ticket's fields, in order."""
	return Ticket(*map(text, row))


class LegacyDB:
	"""A read-only session on the legacy database. Use as a context manager."""

	read_only = True  # the write-back's writer (core.writeback) opens a writing session instead
	client_flag = 0

	def __init__(self, conn: Connection):
		self.params = conn
		self.db = None
		self.queries = 0

	def __enter__(self) -> "LegacyDB":
		p = self.params
		where = {"unix_socket": p.unix_socket} if p.unix_socket else {"host": p.host, "port": int(p.port)}
		options = {"read_timeout": int(p.read_timeout)} if p.read_timeout else {}
		if p.tls:
			options["ssl_mode"] = "VERIFY_IDENTITY" if p.tls_verify else "REQUIRED"
			if p.tls_ca:
				options["ssl"] = {"ca": p.tls_ca}
		# The password goes inline, in no variable or dict, and a failure is raised after the
		# `except`: no frame of the LegacyError's traceback (nor any exception it chains to)
		# holds the clear text. use_unicode=False: text is decoded in `text`, so one bad byte
		# cannot abort a run. multi_statements=False: one execute() never runs more than one
		# statement. init_command: the server stops any statement running longer than the limit
		# (sent with the handshake, so `queries` counts only the statements of the reader).
		failure = None
		try:
			self.db = MySQLdb.connect(
				user=p.user,
				passwd=p.password.reveal(),
				db=p.database,
				connect_timeout=int(p.connect_timeout or 10),
				init_command=f"SET SESSION max_statement_time = {p.statement_limit()}",
				charset="utf8mb4",
				use_unicode=False,
				multi_statements=False,
				autocommit=not self.read_only,
				client_flag=self.client_flag,
				**where,
				**options,
			)
		except MySQLdb.Error as e:
			failure = self.reason(e)
		if failure:
			raise LegacyError(failure)
		try:
			if self.read_only:
				self.execute(self.db.cursor(), "SET SESSION TRANSACTION READ ONLY")
			self.prepare()
		except BaseException:
			self.__exit__()
			raise
		return self

	def prepare(self):
		"""What a source needs once the read-only session is open (nothing here)."""

	def __exit__(self, *exc):
		if self.db:
			self.db.close()
			self.db = None

	def reason(self, e: Exception) -> str:
		code = e.args[0] if e.args else None
		detail = text(e.args[1]) if len(e.args) > 1 else str(e)
		return f"legacy database {self.params.describe()}: {REASONS.get(code, 'error')} [{code}] {detail}"

	def execute(self, cursor, sql: str, args=None):
		self.queries += 1
		failure = None
		try:
			cursor.execute(sql, args)
		except MySQLdb.Error as e:
			failure = self.reason(e)
		if failure:  # raised here, not in the `except`: no context back to MySQLdb's frames
			raise LegacyError(failure)
		return cursor

	def rows(self, sql: str, args=None, batch: int = BATCH) -> Iterator[tuple]:
		"""Stream rows with a server-side cursor, `batch` at a time."""
		cursor = self.execute(self.db.cursor(SSCursor), sql, args)
		failure = None
		try:
			while chunk := cursor.fetchmany(batch):
				yield from chunk
		except MySQLdb.Error as e:
			failure = self.reason(e)
		finally:
			with suppress(MySQLdb.Error):  # closing a broken stream fails too; the first error counts
				cursor.close()
		if failure:  # raised here, not in the `except`: no context back to MySQLdb's frames
			raise LegacyError(failure)

	# --- the schema: what a subclass overrides ---

	def open_sql(self) -> str:
		"""The selection, by id; its two parameters are the status 'open' and the staff id."""
		return TICKET_SELECT + " WHERE t.status = %s AND t.assign_to = %s ORDER BY t.id"

	def ids_sql(self, count: int) -> str:
		"""The tickets whose ids are the `count` parameters."""
		return TICKET_SELECT + " WHERE t.id IN (" + ", ".join(["%s"] * count) + ")"

	def departments_sql(self) -> str:
		return "SELECT id, name FROM dept ORDER BY id"

	def accounts_sql(self, count: int) -> str | None:
		"""id, display name, address and city of `count` accounts (None: the source has no such table)."""
		return (
			"SELECT id, COALESCE(NULLIF(company, ''), CONCAT_WS(' ', first_name, last_name)), address1, city"
			" FROM account WHERE id IN (" + ", ".join(["%s"] * count) + ")"
		)

	def ticket(self, row: tuple) -> Ticket:
		return ticket_from_row(row)

	# --- the reader ---

	def open_tickets(self, staff_id: int) -> Iterator[Ticket]:
		"""The bridge's selection: open tickets assigned to the field staff account."""
		for row in self.rows(self.open_sql(), ("open", int(staff_id))):
			ticket = self.ticket(row)
			if ticket.status == "open":  # the column's collation also matches 'OPEN'
				yield ticket

	def tickets_by_id(self, ids) -> dict[int, Ticket]:
		"""The tickets with these ids as they stand now, whatever their status; a deleted one is absent."""
		ids = sorted({int(i) for i in ids})
		found = {}
		for start in range(0, len(ids), BATCH):
			chunk = ids[start : start + BATCH]
			found.update((t.id, t) for t in map(self.ticket, self.rows(self.ids_sql(len(chunk)), chunk)))
		return found

	def accounts(self, ids) -> dict[int, tuple[str | None, str | None, str | None]]:
		"""Name, address and city of legacy customer accounts (for the unmatched-customers report)."""
		ids = sorted({int(i) for i in ids})
		if not ids or not self.accounts_sql(1):
			return {}
		return {row[0]: tuple(map(text, row[1:])) for row in self.rows(self.accounts_sql(len(ids)), ids)}

	def departments(self) -> list[tuple[int, str]]:
		return [(i, text(n)) for i, n in self.rows(self.departments_sql())]

	def server_version(self) -> str:
		return text(next(self.rows("SELECT VERSION()"))[0])
