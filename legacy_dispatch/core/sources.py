"""The legacy source, a setting: which reader turns the legacy database into `Ticket` rows.

	with open_source(settings.source, conn, options) as source:
		decisions = build_plan(source, config, jobs, directory)

Every reader has the same methods (`open_tickets`, `tickets_by_id`, `departments`,
`server_version`), opens a read-only session and raises `LegacyError` with the
reason when it cannot read. The README describes the profiles and their options.
"""

from .custom_query import CustomQueryDB, validate_custom_query
from .legacy import Connection, LegacyDB, LegacyError
from .osticket import OsTicketDB

GESTIONCLIENT, OSTICKET, CUSTOM = "gestionclient", "osTicket", "custom"
PROFILES = (GESTIONCLIENT, OSTICKET, CUSTOM)

# Each profile's options and their defaults; options of another profile are ignored.
OPTIONS = {
	GESTIONCLIENT: {},
	OSTICKET: {"table_prefix": "ost_", "assignee": "staff", "customer_key": "user"},
	CUSTOM: {"query": "", "row_limit": None},
}

__all__ = ["GESTIONCLIENT", "PROFILES", "LegacyError", "open_source", "profile_name", "validate_custom_query"]


def profile_name(profile: str | None) -> str:
	"""The profile as spelled in PROFILES (letter case ignored); empty means gestionclient."""
	for name in PROFILES:
		if (profile or GESTIONCLIENT).strip().lower() == name.lower():
			return name
	raise LegacyError(f"unknown legacy source {profile!r}: choose {', '.join(PROFILES)}")


def open_source(profile: str | None, conn: Connection, options: dict | None = None) -> LegacyDB:
	"""The reader of `profile` (not connected yet: use it as a context manager).

	`options` may hold every profile's options; an empty value (None, '') takes the default."""
	profile = profile_name(profile)
	given = {k: v for k, v in (options or {}).items() if v not in (None, "")}
	kwargs = {k: given.get(k, default) for k, default in OPTIONS[profile].items()}
	if profile == OSTICKET:
		return OsTicketDB(conn, **kwargs)
	if profile == CUSTOM:
		return CustomQueryDB(conn, **kwargs)
	return LegacyDB(conn)
