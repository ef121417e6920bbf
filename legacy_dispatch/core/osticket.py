"""Read a genuine osTicket 1.17 / 1.18 database (sample/osticket.sql has the tables read).

The same `Ticket` rows as the gestionclient reader, from osTicket's schema:

- open: the ticket's status has `state = 'open'` (`ticket_status`);
- the assignee: `ticket.staff_id`, or `ticket.team_id` (assignee="team");
- the customer key: the osTicket user id, or the user's organization id
  (customer_key="organization"), matched against `Customer.legacy_account_id`;
- subject and priority: `ticket__cdata`, the table osTicket rebuilds at runtime.
  It may be missing, lack a row or a column, or carry other columns: the subject
  then comes from the ticket's first message (osTicket titles it with the
  subject), the priority is Normal;
- priority: `ticket_priority` Low / Normal / High / Emergency -> low / medium /
  high / urgent;
- due date: `duedate`, else `est_duedate` (the SLA's), DATETIMEs in the server's
  time zone, turned into epoch seconds by the server in that time zone;
- job type: the department (`department.name`);
- address, city, zip: the form data (fields named address, city, zip) of the
  customer (user or organization), else of the other one.
"""

import re

from .legacy import Connection, LegacyDB, LegacyError, text
from .mapping import Ticket

ASSIGNEES = {"staff": "staff_id", "team": "team_id"}
CUSTOMER_KEYS = ("user", "organization")

# osTicket's priorities (`ticket_priority.priority`, else its `priority_desc`) -> Dispatch Job.priority
PRIORITY_LEVELS = {"low": "low", "normal": "medium", "high": "high", "emergency": "urgent"}

# Form fields (by name) read from the user's / organization's form data
ADDRESS_FIELDS = {"address": ("address",), "city": ("city",), "zip": ("zip", "postal_code", "postcode")}

COLUMNS_SQL = """
	SELECT COLUMN_NAME FROM information_schema.COLUMNS
	WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s
"""


class OsTicketDB(LegacyDB):
	"""A read-only session on an osTicket database. Use as a context manager."""

	def __init__(
		self,
		conn: Connection,
		table_prefix: str = "ost_",
		assignee: str = "staff",
		customer_key: str = "user",
	):
		super().__init__(conn)
		assignee, customer_key = str(assignee).strip().lower(), str(customer_key).strip().lower()
		if not re.fullmatch(r"[A-Za-z0-9_$]+", table_prefix or ""):
			raise LegacyError(f"osTicket: invalid table prefix {table_prefix!r} (letters, digits, _ only)")
		if assignee not in ASSIGNEES:
			raise LegacyError(f"osTicket: assignee must be 'staff' or 'team', not {assignee!r}")
		if customer_key not in CUSTOMER_KEYS:
			raise LegacyError(
				f"osTicket: customer key must be 'user' or 'organization', not {customer_key!r}"
			)
		self.prefix, self.assignee, self.customer_key = table_prefix, assignee, customer_key
		self.select = ""  # built by `prepare`: it depends on what ticket__cdata holds today

	def table(self, name: str) -> str:
		return f"`{self.prefix}{name}`"

	def prepare(self):
		# osTicket writes DATETIMEs in its "DB time zone", the server's (@@global.time_zone, the
		# system's when SYSTEM): UNIX_TIMESTAMP() reads them in the session's, so make it that one.
		self.execute(self.db.cursor(), "SET SESSION time_zone = @@global.time_zone")
		cdata = {text(c).lower() for (c,) in self.rows(COLUMNS_SQL, (self.prefix + "ticket__cdata",))}
		self.select = self.ticket_select(cdata)

	def ticket_select(self, cdata: set[str]) -> str:
		"""The SELECT for the columns ticket__cdata has (none when it is missing)."""
		t = self.table
		has = "ticket_id" in cdata
		subject = "cd.subject" if has and "subject" in cdata else "NULL"
		priority = "cd.priority" if has and "priority" in cdata else "NULL"
		cdata_join = f"LEFT JOIN {t('ticket__cdata')} cd ON cd.ticket_id = t.ticket_id" if has else ""
		first_title = f"""(SELECT e.title FROM {t("thread")} th JOIN {t("thread_entry")} e ON e.thread_id = th.id
			WHERE th.object_type = 'T' AND th.object_id = t.ticket_id AND e.type = 'M' ORDER BY e.id LIMIT 1)"""
		owners = [("U", "t.user_id"), ("O", "u.org_id")]
		if self.customer_key == "organization":
			owners.reverse()
		address = ", ".join(
			"COALESCE(" + ", ".join(self.form_value(kind, owner, names) for kind, owner in owners) + ")"
			for names in ADDRESS_FIELDS.values()
		)
		account = owners[0][1]
		assignee = ASSIGNEES[self.assignee]
		return f"""
			SELECT t.ticket_id, {account}, t.dept_id,
				COALESCE(NULLIF({subject}, ''), {first_title}),
				COALESCE(s.state, 'unknown'), {priority}, p.priority, p.priority_desc,
				t.{assignee},
				UNIX_TIMESTAMP(COALESCE(t.duedate, t.est_duedate)),
				UNIX_TIMESTAMP(COALESCE(t.lastupdate, t.updated)),
				{address}, d.name
			FROM {t("ticket")} t
			LEFT JOIN {t("ticket_status")} s ON s.id = t.status_id
			LEFT JOIN {t("user")} u ON u.id = t.user_id
			LEFT JOIN {t("department")} d ON d.id = t.dept_id
			{cdata_join}
			LEFT JOIN {t("ticket_priority")} p ON p.priority_id = {priority}
		"""

	def form_value(self, object_type: str, object_id: str, names: tuple[str, ...]) -> str:
		"""The first non-empty value of a field named `names` in the form data of a user (U) or organization (O)."""
		t = self.table
		return f"""(SELECT NULLIF(TRIM(v.value), '') FROM {t("form_entry")} fe
			JOIN {t("form_entry_values")} v ON v.entry_id = fe.id
			JOIN {t("form_field")} f ON f.id = v.field_id
			WHERE fe.object_type = '{object_type}' AND fe.object_id = {object_id}
				AND f.name IN ({", ".join(f"'{n}'" for n in names)}) AND TRIM(v.value) <> ''
			ORDER BY fe.id, f.sort LIMIT 1)"""

	def departments_sql(self) -> str:
		return f"SELECT id, name FROM {self.table('department')} ORDER BY id"

	def accounts_sql(self, count: int) -> str:
		table = self.table("organization" if self.customer_key == "organization" else "user")
		return f"SELECT id, name, NULL, NULL FROM {table} WHERE id IN (" + ", ".join(["%s"] * count) + ")"

	def open_sql(self) -> str:
		return self.select + f" WHERE s.state = %s AND t.{ASSIGNEES[self.assignee]} = %s ORDER BY t.ticket_id"

	def ids_sql(self, count: int) -> str:
		return self.select + " WHERE t.ticket_id IN (" + ", ".join(["%s"] * count) + ")"

	def ticket(self, row: tuple) -> Ticket:
		(id, account, dept, subject, state, raw_priority, name, desc, assign, due, last, address, city, zip_, dept_name) = map(text, row)  # fmt: skip
		return Ticket(
			id=id,
			account_id=account or None,  # 0: no user / no organization
			dept_id=dept,
			subject=subject,
			status=state,
			priority=priority_level(raw_priority, name, desc),
			assign_to=assign,
			due_date=due,
			due_time=None,  # a due date is a deadline, not an appointment: no start time
			last_update=last or 0,
			address=address,
			city=city,
			zip=zip_,
			dept_name=dept_name,
		)


def priority_level(raw, name: str | None, desc: str | None) -> str:
	"""The Dispatch Job priority of an osTicket priority; a value it cannot be is passed on
	for the mapping to report (and use medium)."""
	if raw in (None, ""):
		return "medium"  # no priority recorded (or no cdata): osTicket's Normal
	for label in (name, desc):
		if label and label.strip().lower() in PRIORITY_LEVELS:
			return PRIORITY_LEVELS[label.strip().lower()]
	return desc or name or f"osTicket priority_id {raw}"
