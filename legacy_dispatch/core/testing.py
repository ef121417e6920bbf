"""Test helpers shared by the core tests and the Frappe tests: a legacy database
written the way the PHP application writes it, and an osTicket database written
the way osTicket does. Frappe-free."""

import itertools

from .legacy import Connection, LegacyDB
from .osticket import OsTicketDB
from .sandbox import SCHEMA, run_script


class Legacy:
	"""A fresh legacy database and helpers to write tickets the way the PHP application does."""

	def __init__(self, server, name):
		self.conn = server.create_database(name)
		self.admin = server.admin()
		self.admin.select_db(name)
		self.ids = itertools.count(1)

	def sql(self, statement, args=None):
		cur = self.admin.cursor()
		cur.execute(statement, args)
		return cur

	def ticket(self, **cols) -> int:
		row = dict(id=next(self.ids), account_id=0, dept_id=1, subject="Test", status="open", priority=2,
			assign_to=3301, due_date=0, due_time=None, date_create=1, last_update=1)  # fmt: skip
		row.update(cols)
		names = ", ".join(row)
		self.sql(f"INSERT INTO ticket ({names}) VALUES ({', '.join(['%s'] * len(row))})", list(row.values()))
		return row["id"]

	def update(self, ticket_id, **cols):
		sets = ", ".join(f"{c} = %s" for c in cols)
		self.sql(f"UPDATE ticket SET {sets} WHERE id = %s", [*cols.values(), ticket_id])

	def account(self, id, **cols):
		row = dict(id=id, **cols)
		self.sql(
			f"INSERT INTO account ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
			list(row.values()),
		)

	def dept(self, id, name):
		self.sql("INSERT INTO dept (id, name) VALUES (%s, %s)", (id, name))

	def open(self, **kw) -> LegacyDB:
		return LegacyDB(Connection(**{**self.conn.__dict__, **kw}))


class OsTicket:
	"""A fresh osTicket 1.18 database (sample/osticket.sql) and helpers that store tickets the way
	osTicket does: the ticket, its thread and first message (titled with the subject), the
	answers to the ticket form (subject, priority) and, while it exists, the ticket__cdata row."""

	def __init__(self, server, name, prefix="ost_"):
		self.prefix = prefix
		self.admin = server.admin()
		cur = self.admin.cursor()
		cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
		cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
		self.admin.select_db(name)
		run_script(cur, (SCHEMA / "osticket.sql").read_text().replace("%TABLE_PREFIX%", prefix))
		self.conn = server.connection(name)
		self.numbers = itertools.count(100001)
		self.build_cdata()

	def t(self, name: str) -> str:
		return f"`{self.prefix}{name}`"

	def sql(self, statement, args=None):
		cur = self.admin.cursor()
		cur.execute(statement, args)
		return cur

	def insert(self, table: str, **cols) -> int:
		marks = ", ".join("NOW()" if v == "NOW()" else "%s" for v in cols.values())
		args = [v for v in cols.values() if v != "NOW()"]
		return self.sql(f"INSERT INTO {self.t(table)} ({', '.join(cols)}) VALUES ({marks})", args).lastrowid

	def open(self, **options) -> OsTicketDB:
		return OsTicketDB(self.conn, table_prefix=self.prefix, **options)

	# --- forms ---

	def field(self, form_type: str, name: str) -> int | None:
		row = self.sql(
			f"SELECT f.id FROM {self.t('form_field')} f JOIN {self.t('form')} fo ON fo.id = f.form_id "
			"WHERE fo.type = %s AND f.name = %s",
			(form_type, name),
		).fetchone()
		return row[0] if row else None

	def add_field(self, form_type: str, name: str, type: str = "text") -> int:
		"""An admin adds a field to a form; osTicket then rebuilds that form's cdata table."""
		(form_id,) = self.sql(f"SELECT id FROM {self.t('form')} WHERE type = %s", (form_type,)).fetchone()
		field_id = self.insert("form_field", form_id=form_id, type=type, label=name.title(), name=name, sort=99, created="NOW()", updated="NOW()")  # fmt: skip
		if form_type == "T" and self.cdata_columns():
			self.build_cdata()
		return field_id

	def answer(self, form_type: str, object_id: int, values: dict):
		"""A form entry of a ticket (T), user (U) or organization (O) and its answers; a value
		is text, or (text, id) for a choice (a priority is stored as ('Normal', 2))."""
		(form_id,) = self.sql(f"SELECT id FROM {self.t('form')} WHERE type = %s", (form_type,)).fetchone()
		entry = self.insert("form_entry", form_id=form_id, object_id=object_id, object_type=form_type, created="NOW()", updated="NOW()")  # fmt: skip
		for name, value in values.items():
			field_id = self.field(form_type, name) or self.add_field(form_type, name)
			value, value_id = value if isinstance(value, tuple) else (value, None)
			self.insert(
				"form_entry_values", entry_id=entry, field_id=field_id, value=value, value_id=value_id
			)

	# --- ticket__cdata, which osTicket builds at runtime ---

	def cdata_columns(self) -> list[str]:
		return [r[0] for r in self.sql(
			"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
			"AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (self.prefix + "ticket__cdata",)
		)]  # fmt: skip

	def drop_cdata(self):
		self.sql(f"DROP TABLE IF EXISTS {self.t('ticket__cdata')}")

	def build_cdata(self):
		"""Drop and rebuild ticket__cdata from the ticket form's answers, with osTicket's own
		statement (DynamicForm::buildDynamicDataView and getDynamicDataViewFields)."""
		columns = []
		for field_id, name, type in self.sql(
			f"SELECT f.id, f.name, f.type FROM {self.t('form_field')} f JOIN {self.t('form')} fo "
			"ON fo.id = f.form_id WHERE fo.type = 'T' AND f.type NOT IN ('thread', 'break', 'info') ORDER BY f.sort"
		):
			name = name or f"field_{field_id}"
			if type in ("priority", "choices") or type.startswith("list-"):
				columns.append(
					f"MAX(CASE WHEN field.id='{field_id}' THEN REPLACE(REPLACE(REPLACE(REPLACE(coalesce(ans.value_id, "
					f"ans.value), '{{', ''), '}}', ''), '\"', ''), ':', ',') ELSE NULL END) as `{name}`"
				)
			else:
				columns.append(
					f"MAX(IF(field.id='{field_id}',coalesce(ans.value_id, ans.value),NULL)) as `{name}`"
				)
		self.drop_cdata()
		self.sql(
			f"CREATE TABLE IF NOT EXISTS {self.t('ticket__cdata')} (PRIMARY KEY (ticket_id)) DEFAULT CHARSET=utf8 AS "
			f"SELECT entry.`object_id` as `ticket_id`, {', '.join(columns)} FROM {self.t('form_entry')} entry "
			f"JOIN {self.t('form_entry_values')} ans ON ans.entry_id = entry.id "
			f"JOIN {self.t('form_field')} field ON field.id=ans.field_id "
			"WHERE entry.object_type='T' GROUP BY entry.object_id"
		)

	def update_cdata(self, ticket_id: int, values: dict):
		"""What osTicket does for every answer saved (DynamicForm::updateDynamicDataView)."""
		columns = self.cdata_columns()
		for name, value in values.items():
			key = value[1] if isinstance(value, tuple) else value
			if name in columns:
				self.sql(
					f"INSERT INTO {self.t('ticket__cdata')} SET `{name}` = %s, `ticket_id` = %s "
					f"ON DUPLICATE KEY UPDATE `{name}` = %s",
					(key, ticket_id, key),
				)

	# --- records ---

	def department(self, id: int, name: str):
		self.insert("department", id=id, name=name, signature="", created="NOW()", updated="NOW()")

	def organization(self, name: str = "Org", **form) -> int:
		"""An organization and its form data (name, address...; fields missing from the form are added)."""
		org_id = self.insert("organization", name=name, created="NOW()", updated="NOW()")
		self.answer("O", org_id, {"name": name, **form})
		return org_id

	def user(self, name: str = "Client", org_id: int = 0, **form) -> int:
		"""A user and its contact form data (address, city, zip... are added to the form as an admin would)."""
		user_id = self.insert("user", org_id=org_id, default_email_id=0, name=name, created="NOW()", updated="NOW()")  # fmt: skip
		self.answer("U", user_id, {"name": name, "email": f"user{user_id}@example.com", **form})
		return user_id

	def ticket(self, subject: str = "Test", priority: str = "normal", user_id: int | None = None, status: str = "Open", **cols) -> int:  # fmt: skip
		"""A ticket as osTicket opens it; `cols` are ticket columns (dept_id, staff_id, team_id, duedate...)."""
		row = dict(dept_id=1, staff_id=3301, team_id=0, duedate=None, est_duedate=None)
		row.update(cols)
		(status_id,) = self.sql(
			f"SELECT id FROM {self.t('ticket_status')} WHERE name = %s", (status,)
		).fetchone()
		user_id = user_id or self.user()
		ticket_id = self.insert("ticket", number=str(next(self.numbers)), user_id=user_id, status_id=status_id, source="Web", lastupdate="NOW()", created="NOW()", updated="NOW()", **row)  # fmt: skip
		thread_id = self.insert("thread", object_id=ticket_id, object_type="T", created="NOW()")
		self.insert("thread_entry", thread_id=thread_id, user_id=user_id, type="M", poster="Client", source="Web", title=subject, body=f"<p>{subject}</p>", created="NOW()", updated="NOW()")  # fmt: skip
		self.insert("thread_entry", thread_id=thread_id, staff_id=1, type="N", poster="SYSTEM", title="Ticket Assigned", body="", created="NOW()", updated="NOW()")  # fmt: skip
		answers = {"subject": subject}
		if priority:
			answers["priority"] = self.sql(
				f"SELECT priority_desc, priority_id FROM {self.t('ticket_priority')} WHERE priority = %s",
				(priority,),
			).fetchone()
		self.answer("T", ticket_id, answers)
		self.update_cdata(ticket_id, answers)
		return ticket_id

	def set_status(self, ticket_id: int, status: str):
		self.sql(
			f"UPDATE {self.t('ticket')} t JOIN {self.t('ticket_status')} s ON s.name = %s "
			"SET t.status_id = s.id, t.closed = IF(s.state = 'closed', NOW(), NULL), t.updated = NOW() "
			"WHERE t.ticket_id = %s",
			(status, ticket_id),
		)

	def update(self, ticket_id: int, **cols):
		sets = ", ".join(f"{c} = %s" for c in cols)
		self.sql(f"UPDATE {self.t('ticket')} SET {sets} WHERE ticket_id = %s", [*cols.values(), ticket_id])

	def delete(self, ticket_id: int):
		"""osTicket's purge: the ticket and its cdata row go."""
		self.sql(f"DELETE FROM {self.t('ticket')} WHERE ticket_id = %s", (ticket_id,))
		if self.cdata_columns():
			self.sql(f"DELETE FROM {self.t('ticket__cdata')} WHERE ticket_id = %s", (ticket_id,))
