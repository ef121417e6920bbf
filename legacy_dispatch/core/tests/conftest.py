"""Core tests run against a real MariaDB: a throwaway server on a private socket,
started once per session, with a fresh legacy database per test."""

import itertools

import pytest

from legacy_dispatch.core.sandbox import ThrowawayMariaDB
from legacy_dispatch.core.testing import Legacy, OsTicket

_names = itertools.count()


@pytest.fixture(scope="session")
def server():
	with ThrowawayMariaDB() as s:
		yield s


@pytest.fixture
def legacy(server):
	db = Legacy(server, f"legacy_{next(_names)}")
	yield db
	db.admin.close()


@pytest.fixture
def osticket(server):
	"""A fresh osTicket 1.18 database (prefix ost_) with three departments."""
	db = OsTicket(server, f"osticket_{next(_names)}")
	for dept_id, name in ((1, "Installation"), (2, "Réparation"), (3, "Support")):
		db.department(dept_id, name)
	yield db
	db.admin.close()


@pytest.fixture
def server_time_zone(server):
	"""Set the server's time zone (@@global.time_zone) for the sessions opened after; restored after the test."""
	db = server.admin()
	cur = db.cursor()
	cur.execute("SELECT @@global.time_zone")
	(before,) = cur.fetchone()
	yield lambda zone: cur.execute("SET GLOBAL time_zone = %s", (zone,))
	cur.execute("SET GLOBAL time_zone = %s", (before,))
	db.close()
