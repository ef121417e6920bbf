"""Frappe test helpers: the production site's doctypes, and a legacy MariaDB to read.

The legacy database is created on the MariaDB server named by LEGACY_TEST_DB_HOST,
_PORT, _USER and _PASSWORD (default 127.0.0.1:3306, root, empty password).

The tests create and delete only their own records: their legacy tickets are numbered
from OWN_TICKETS, so their jobs are told apart from any other; they refuse to run on a
site whose board holds jobs of other legacy tickets (a run would cancel those); the
settings and the Sync Logs the site had are left as they were.
"""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import frappe
from frappe.tests.utils import FrappeTestCase

from legacy_dispatch.core.sandbox import RunningMariaDB
from legacy_dispatch.core.testing import Legacy
from legacy_dispatch.jobs import legacy_key
from legacy_dispatch.sync import load_jobs

TARGET_SITE = Path(__file__).parent / "target_site"
TARGET_ORDER = ("customer", "dispatch_technician", "service_location", "dispatch_job")
OWN_TICKETS = 900_000_001
PASSWORDS = ("password", "writeback_password")


def ensure_target_doctypes():
	"""Create the production site's doctypes (copies of shared/target-site) when missing."""
	for name in TARGET_ORDER:
		doc = json.loads((TARGET_SITE / f"{name}.json").read_text())
		if not frappe.db.exists("DocType", doc["name"]):
			frappe.get_doc(doc).insert()
	frappe.db.commit()


def legacy_server() -> RunningMariaDB:
	env = os.environ.get
	return RunningMariaDB(
		env("LEGACY_TEST_DB_HOST", "127.0.0.1"),
		int(env("LEGACY_TEST_DB_PORT", "3306")),
		env("LEGACY_TEST_DB_USER", "root"),
		env("LEGACY_TEST_DB_PASSWORD", ""),
	)


def fresh_legacy(name: str | None = None) -> Legacy:
	"""An empty legacy database (one per site, so two sites' tests can run at once),
	and the site's settings pointed at it."""
	name = name or "legacy_test_" + "".join(c if c.isalnum() else "_" for c in frappe.local.site)
	legacy = Legacy(legacy_server(), name)
	legacy.ids = itertools.count(OWN_TICKETS)
	settings = frappe.get_single("Legacy Dispatch Settings")
	c = legacy.conn
	settings.update(
		{
			"host": c.host,
			"port": c.port,
			"user": c.user,
			"password": c.password.reveal(),
			"database": c.database,
			# a test site's baseline: no write-back, whatever the site had
			**dict.fromkeys(
				("writeback_schedule", "writeback_technician", "writeback_completed", "writeback_cancelled"),
				0,
			),
		}
	)
	settings.save()
	frappe.db.commit()
	return legacy


WRITER = ("ld_writer", "w-secret")  # the write-back's user, with the README's grants


def grant_writer(legacy: Legacy) -> None:
	"""The write-back user, with the README's column rights on this legacy database only,
	and the settings pointed at it."""
	db = legacy.conn.database
	for host in ("localhost", "%"):
		legacy.sql(f"CREATE USER IF NOT EXISTS '{WRITER[0]}'@'{host}' IDENTIFIED BY '{WRITER[1]}'")
		legacy.sql(
			"GRANT SELECT (id, due_date, due_time, assign_to, status, date_closed, last_update),"
			" UPDATE (due_date, due_time, assign_to, status, date_closed, last_update)"
			f" ON `{db}`.ticket TO '{WRITER[0]}'@'{host}'"
		)
	settings = frappe.get_single("Legacy Dispatch Settings")
	settings.update({"writeback_user": WRITER[0], "writeback_password": WRITER[1]})
	settings.save()
	frappe.db.commit()


def bench(*args: str) -> subprocess.CompletedProcess:
	"""`bench --site SITE legacy-dispatch ...` in a process of its own."""
	cmd = [
		sys.executable,
		"-m",
		"frappe.utils.bench_helper",
		"frappe",
		"--site",
		frappe.local.site,
		"legacy-dispatch",
		*args,
	]
	return subprocess.run(cmd, cwd=frappe.local.sites_path, capture_output=True, text=True, timeout=120)


def technician() -> str:
	"""The tests' Dispatch Technician."""
	if not frappe.db.exists("Dispatch Technician", {"full_name": "LD Tech"}):
		frappe.get_doc({"doctype": "Dispatch Technician", "full_name": "LD Tech"}).insert()
		frappe.db.commit()
	return frappe.db.get_value("Dispatch Technician", {"full_name": "LD Tech"})


def own_jobs() -> list[str]:
	"""The jobs of the tests' own legacy tickets, and the ordinary jobs they made."""
	jobs = frappe.get_all("Dispatch Job", fields=["name", "legacy_ticket_id", "ticket_id", "subject"])
	return [
		j.name
		for j in jobs
		if int(legacy_key(j) or 0) >= OWN_TICKETS or (j.subject or "").startswith(OWN_SUBJECT)
	]


OWN_SUBJECT = "LD test "  # ordinary jobs the tests make start with this


def refuse_foreign_jobs():
	"""A run during the tests would cancel the jobs of legacy tickets it cannot see: refuse
	to run on a site whose board holds any."""
	foreign = [j.name for key, j in load_jobs().items() if not key.isdigit() or int(key) < OWN_TICKETS]
	if foreign:
		raise RuntimeError(
			f"This site holds {len(foreign)} Dispatch Jobs of legacy tickets (e.g. {foreign[0]}): "
			"run the legacy_dispatch tests on a test site, never on one whose board is in use."
		)


def clean_site():
	"""Remove what the tests made: their jobs and write-backs, and the Sync Logs made since the
	class began."""
	for name in own_jobs():
		frappe.db.delete("Dispatch Job", name)
	for doctype in ("Legacy Write Back", "Legacy Ignored Ticket"):
		for r in frappe.get_all(doctype, fields=["name", "legacy_ticket_id"]):
			if (r.legacy_ticket_id or "").isdigit() and int(r.legacy_ticket_id) >= OWN_TICKETS:
				frappe.db.delete(doctype, r.name)
	logs = frappe.get_all(
		"Sync Log", filters={"name": ("not in", BridgeTestCase.site_logs or [""])}, pluck="name"
	)
	if logs:
		frappe.db.delete("Sync Log Ticket", {"parent": ("in", logs)})
		frappe.db.delete("Sync Log", {"name": ("in", logs)})
	frappe.db.commit()


class BridgeTestCase(FrappeTestCase):
	"""Refuses a site in use; leaves the settings and Sync Logs as the site had them."""

	site_logs: list[str] | None = None

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_target_doctypes()
		refuse_foreign_jobs()
		BridgeTestCase.site_logs = frappe.get_all("Sync Log", pluck="name")
		settings = frappe.get_single("Legacy Dispatch Settings")
		cls.site_settings = (
			settings.as_dict(),
			{p: settings.get_password(p, raise_exception=False) for p in PASSWORDS},
		)

	def setUp(self):
		clean_site()
		self.legacy = fresh_legacy()

	def tearDown(self):
		self.legacy.admin.close()
		frappe.db.rollback()

	@classmethod
	def tearDownClass(cls):
		frappe.db.rollback()
		clean_site()
		values, passwords = cls.site_settings
		settings = frappe.get_single("Legacy Dispatch Settings")
		settings.update({k: v for k, v in values.items() if k not in ("modified", *PASSWORDS)})
		settings.update(passwords)
		settings.flags.ignore_validate = True
		settings.save()
		frappe.db.commit()
		super().tearDownClass()
