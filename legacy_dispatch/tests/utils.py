"""Frappe test helpers: the production site's doctypes, and a legacy MariaDB to read.

The legacy database is created on the MariaDB server named by LEGACY_TEST_DB_HOST,
_PORT, _USER and _PASSWORD (default 127.0.0.1:3306, root, empty password).
"""

import json
import os
from pathlib import Path

import frappe

from legacy_dispatch.core.sandbox import RunningMariaDB
from legacy_dispatch.core.testing import Legacy

TARGET_SITE = Path(__file__).parent / "target_site"
TARGET_ORDER = ("customer", "dispatch_technician", "service_location", "dispatch_job")


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
	settings = frappe.get_single("Legacy Dispatch Settings")
	c = legacy.conn
	settings.update(
		{"host": c.host, "port": c.port, "user": c.user, "password": c.password, "database": c.database}
	)
	settings.save()
	frappe.db.commit()
	return legacy


def clean_site():
	"""No legacy jobs, no logs: each test starts from an empty board."""
	frappe.db.delete("Dispatch Job")
	frappe.db.delete("Sync Log Ticket")
	frappe.db.delete("Sync Log")
	frappe.db.commit()
