"""Core tests run against a real MariaDB: a throwaway server on a private socket,
started once per session, with a fresh legacy database per test."""

import itertools

import pytest

from legacy_dispatch.core.legacy import LegacyDB
from legacy_dispatch.core.sandbox import ThrowawayMariaDB

_names = itertools.count()


@pytest.fixture(scope="session")
def server():
	with ThrowawayMariaDB() as s:
		yield s


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
		return LegacyDB(self.conn if not kw else type(self.conn)(**{**self.conn.__dict__, **kw}))


@pytest.fixture
def legacy(server):
	db = Legacy(server, f"legacy_{next(_names)}")
	yield db
	db.admin.close()
