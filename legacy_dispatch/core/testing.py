"""Test helpers shared by the core tests and the Frappe tests: a legacy database
written the way the PHP application writes it. Frappe-free."""

import itertools

from .legacy import Connection, LegacyDB


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
