"""Core tests run against a real MariaDB: a throwaway server on a private socket,
started once per session, with a fresh legacy database per test."""

import itertools

import pytest

from legacy_dispatch.core.sandbox import ThrowawayMariaDB
from legacy_dispatch.core.testing import Legacy

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
