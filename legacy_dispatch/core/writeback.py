"""Write-back to the gestionclient ticket (SPEC §6.4, opt-in): the date and technician dispatch
chose, and optionally the closure. Frappe-free.

Every write is a compare-and-set against the ticket as the bridge last read (or wrote) it,
its *record*: a row changed in legacy since is not written (legacy wins), and a write
that already reached the row is not written twice.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

import pytz
from MySQLdb.constants import CLIENT

from .legacy import LegacyDB, text
from .planner import TRACKED, normalise

WRITABLE = (*TRACKED, "date_closed")  # what a write-back sets, with last_update
SENT, ALREADY, CONFLICT, MISSING = "sent", "already", "conflict", "missing"


@dataclass
class Switches:
	"""Which kinds of write-back are on (all off after install)."""

	schedule: bool = False  # scheduled_date / start_time -> due_date / due_time
	technician: bool = False  # assigned_tech -> assign_to
	completed: bool = False  # job completed -> ticket closed
	cancelled: bool = False  # job cancelled by dispatch -> ticket closed

	def any(self) -> bool:
		return any((self.schedule, self.technician, self.completed, self.cancelled))


def epoch(day, start, tz_name: str) -> int:
	"""The epoch of that local date (at the start time, else midnight) in the time zone."""
	day = date.fromisoformat(normalise("scheduled_date", day))
	at = time.fromisoformat(normalise("start_time", start)) if start else time(0)
	return int(pytz.timezone(tz_name).localize(datetime.combine(day, at)).timestamp())


def changes(before: dict, after: dict, switches: Switches, tz_name: str, assign_to, now: int) -> dict:
	"""The ticket's columns to write after dispatch saved a bridge job (`before` -> `after`).

	`assign_to` is the legacy staff id of the job's technician (None: the technician has
	none, so the ticket stays where it is)."""
	out = {}

	def moved(*fields):
		return any(normalise(f, before.get(f)) != normalise(f, after.get(f)) for f in fields)

	if switches.schedule and moved("scheduled_date", "start_time"):
		day, start = after.get("scheduled_date"), after.get("start_time")
		out["due_date"] = epoch(day, start, tz_name) if day else 0
		out["due_time"] = normalise("start_time", start)[:5] if start else "day"
	if switches.technician and moved("assigned_tech") and assign_to is not None:
		out["assign_to"] = int(assign_to)
	status = after.get("status")
	if moved("status") and (
		(status == "completed" and switches.completed) or (status == "cancelled" and switches.cancelled)
	):
		out.update(status="closed", date_closed=now)
	return out


def merge(pending: list[dict]) -> dict:
	"""The changes of a ticket's pending write-backs, oldest first: the latest value per column."""
	out = {}
	for values in pending:
		out.update(values)
	return out


def holds(row: dict | None, values: dict) -> bool:
	"""The row already holds these values (date_closed is the write's own moment)."""
	return row is not None and all(str(row[c]) == str(v) for c, v in values.items() if c in TRACKED)


class LegacyWriter(LegacyDB):
	"""The write-back's own session, under its own user (column-level UPDATE rights on ticket).
	Rows matched, not rows changed, are counted (FOUND_ROWS), so a compare-and-set that finds
	its row is told from one that does not."""

	read_only = False
	client_flag = CLIENT.FOUND_ROWS

	def current(self, ticket_id: int) -> dict | None:
		cols = ", ".join(TRACKED)
		rows = list(self.rows(f"SELECT {cols} FROM ticket WHERE id = %s", (int(ticket_id),)))
		return dict(zip(TRACKED, map(text, rows[0]), strict=True)) if rows else None

	def compare_and_set(
		self, ticket_id: int, expected: dict, values: dict, now: int
	) -> tuple[str, dict | None]:
		"""Write `values` (and last_update = now) only if the ticket's tracked columns still hold
		`expected`. Returns (SENT, None), or when nothing was written: (ALREADY, row) when the
		row holds the values already, (CONFLICT, row) when legacy changed it, (MISSING, None)."""
		unknown = set(values) - set(WRITABLE)
		if unknown:
			raise ValueError(f"not a write-back column: {', '.join(sorted(unknown))}")
		sets = ", ".join(f"{c} = %s" for c in values)
		where = " AND ".join(f"{c} <=> %s" for c in TRACKED)
		args = [*values.values(), int(now), int(ticket_id), *(expected.get(c) for c in TRACKED)]
		cursor = self.execute(
			self.db.cursor(), f"UPDATE ticket SET {sets}, last_update = %s WHERE id = %s AND {where}", args
		)
		if cursor.rowcount == 1:
			return SENT, None
		row = self.current(ticket_id)
		if row is None:
			return MISSING, None
		return (ALREADY if holds(row, values) else CONFLICT), row

	def check(self) -> None:
		"""Raise LegacyError unless this user may run every statement of a write-back (no row
		is touched: ticket id 0 does not exist)."""
		sets = ", ".join(f"{c} = {c}" for c in (*WRITABLE, "last_update"))
		where = " AND ".join(f"{c} <=> {c}" for c in TRACKED)
		self.execute(self.db.cursor(), f"UPDATE ticket SET {sets} WHERE id = 0 AND {where}")
		self.current(0)
