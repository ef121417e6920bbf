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
	2002: "cannot connect to the server",
	2003: "cannot connect to the server",
	2005: "unknown server host",
	2006: "the server went away",
	2013: "connection lost or timed out",
	2026: "TLS error",
}


class LegacyError(Exception):
	"""The legacy database could not be read; the message says why (never the password)."""


@dataclass
class Connection:
	host: str = "127.0.0.1"
	port: int = 3306
	user: str = "root"
	password: str = ""
	database: str = "gestionclient"
	connect_timeout: int = 10
	read_timeout: int | None = None
	unix_socket: str | None = None
	tls: bool = False  # encrypt the connection
	tls_ca: str | None = None  # CA file that signed the server's certificate
	tls_verify: bool = True  # check the certificate and the host name (else: encrypt only)

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

	def __init__(self, conn: Connection):
		self.params = conn
		self.db = None
		self.queries = 0

	def __enter__(self) -> "LegacyDB":
		p = self.params
		kwargs = dict(
			user=p.user, passwd=p.password, db=p.database, connect_timeout=int(p.connect_timeout or 10)
		)
		kwargs.update(
			{"unix_socket": p.unix_socket} if p.unix_socket else {"host": p.host, "port": int(p.port)}
		)
		if p.read_timeout:
			kwargs["read_timeout"] = int(p.read_timeout)
		if p.tls:
			kwargs["ssl_mode"] = "VERIFY_IDENTITY" if p.tls_verify else "REQUIRED"
			if p.tls_ca:
				kwargs["ssl"] = {"ca": p.tls_ca}
		# use_unicode=False: text is decoded in `text`, so one bad byte cannot abort a run
		# multi_statements=False: one execute() never runs more than one statement
		try:
			self.db = MySQLdb.connect(charset="utf8mb4", use_unicode=False, multi_statements=False, **kwargs)
		except MySQLdb.Error as e:
			raise LegacyError(self.reason(e)) from None
		try:
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
		try:
			cursor.execute(sql, args)
		except MySQLdb.Error as e:
			raise LegacyError(self.reason(e)) from None
		return cursor

	def rows(self, sql: str, args=None, batch: int = BATCH) -> Iterator[tuple]:
		"""Stream rows with a server-side cursor, `batch` at a time."""
		cursor = self.execute(self.db.cursor(SSCursor), sql, args)
		try:
			while chunk := cursor.fetchmany(batch):
				yield from chunk
		except MySQLdb.Error as e:
			raise LegacyError(self.reason(e)) from None
		finally:
			with suppress(MySQLdb.Error):  # closing a broken stream fails too; the first error counts
				cursor.close()

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
