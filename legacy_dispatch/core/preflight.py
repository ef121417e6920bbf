"""Pre-flight: print what the bridge would do with each legacy ticket. Reads only; no Frappe.

	python -m legacy_dispatch.core.preflight --sample
	LEGACY_PASSWORD=... python -m legacy_dispatch.core.preflight --host db.example --user bridge

With --sample it starts a throwaway MariaDB loaded with the bundled sample data.
Against a real legacy database it shows the selection and the mapping of every
ticket, as a first run on an empty site would (no Customer matched without --site).
"""

import argparse
import json
import os
import sys
from pathlib import Path

from .legacy import Connection, LegacyDB, LegacyError
from .mapping import Config, Directory, Location
from .planner import Decision, build_plan, summary
from .sandbox import SCHEMA, ThrowawayMariaDB


def load_directory(path: str | None) -> Directory:
	"""Customers and service locations from a JSON file shaped like sample/site.json."""
	if not path:
		return Directory()
	data = json.loads(Path(path).read_text())
	locations = {c: [Location(**loc) for loc in locs] for c, locs in data.get("locations", {}).items()}
	return Directory(data.get("customers", {}), locations)


def describe(d: Decision) -> str:
	line = f"LEG-{d.legacy_ticket_id:<8} {d.action:<9} {d.reason}"
	if d.mapped:
		f = d.mapped.fields
		when = " ".join(str(v) for v in (f["scheduled_date"], f["start_time"]) if v) or "no date"
		line += (
			f"\n    {f['job_type']}, {f['duration_h']:g} h, {when}, priority {f['priority']}"
			f"\n    customer: {d.mapped.customer_match} {f['customer'] or ''} "
			f"| location: {d.mapped.location_match} {f['service_location'] or ''}"
			f"\n    subject: {f['subject']}"
		)
	return line + "".join(f"\n    warning: {w}" for w in d.warnings)


def report(conn: Connection, config: Config, directory: Directory) -> dict:
	with LegacyDB(conn) as source:
		decisions = build_plan(source, config, {}, directory)
	for d in decisions:
		print(describe(d))
	counts = summary(decisions)
	print("\n" + ", ".join(f"{k}: {v}" for k, v in counts.items()))
	return counts


def main(argv=None) -> int:
	ap = argparse.ArgumentParser(
		prog="python -m legacy_dispatch.core.preflight", description=__doc__.split("\n")[0]
	)
	ap.add_argument(
		"--sample", action="store_true", help="run on the bundled sample data (throwaway MariaDB)"
	)
	ap.add_argument("--host", default="127.0.0.1")
	ap.add_argument("--port", type=int, default=3306)
	ap.add_argument("--user", default="root")
	ap.add_argument("--database", default="gestionclient")
	ap.add_argument("--staff-id", type=int, default=3301)
	ap.add_argument("--time-zone", default="America/Toronto")
	ap.add_argument("--site", help="JSON file of customers and service locations (see sample/site.json)")
	args = ap.parse_args(argv)
	config = Config(staff_id=args.staff_id, time_zone=args.time_zone)
	try:
		if args.sample:
			with ThrowawayMariaDB() as server:
				conn = server.create_database("gestionclient", SCHEMA / "tickets.sql")
				report(conn, config, load_directory(args.site or SCHEMA / "site.json"))
		else:
			password = os.environ.get("LEGACY_PASSWORD", "")
			conn = Connection(args.host, args.port, args.user, password, args.database)
			report(conn, config, load_directory(args.site))
	except LegacyError as e:
		print(f"error: {e}", file=sys.stderr)
		return 1
	return 0


if __name__ == "__main__":
	sys.exit(main())
