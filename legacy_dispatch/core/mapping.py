"""Legacy ticket -> Dispatch Job fields (SPEC §2 and §4). Pure functions, no I/O.

Bad input never drops a ticket: a value that cannot be used leaves its field
empty (or at its default) and adds a warning naming the field and the raw value.
"""

import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import NamedTuple

import pytz

PRIORITIES = ("low", "medium", "high", "urgent")  # Dispatch Job.priority
JOB_TYPES = ("Installation", "Réparation", "Maintenance", "Retrait", "Dépannage", "Autre")
DEFAULT_DURATIONS = {"Installation": 2.0, "Réparation": 1.5}
DEFAULT_DURATION = 1.0
SUBJECT_MAX = 140

# Departments whose tickets are not field work (left out when the map is loaded by name).
NON_FIELD_WORDS = ("todo", "to do", "support", "informatique", "conception", "facturation", "billing")

# Fields the bridge owns on a Dispatch Job: what it writes, and what it fingerprints
# to notice a dispatcher's edit. `status` is written as "open" on create and
# "cancelled" on legacy closure.
MANAGED_FIELDS = (
	"ticket_id",
	"subject",
	"note",
	"customer",
	"service_location",
	"latitude",
	"longitude",
	"job_type",
	"scheduled_date",
	"start_time",
	"duration_h",
	"priority",
	"status",
)


class Text(str):
	"""English text that keeps its template and arguments, so the Desk can show it in the
	user's language (`text.translated(_)`); a plain str everywhere else."""

	def __new__(cls, template: str, *args):
		self = super().__new__(cls, template.format(*args))
		self.template, self.args = template, args
		return self

	def translated(self, gettext) -> str:
		args = (a.translated(gettext) if isinstance(a, Text) else a for a in self.args)
		return gettext(self.template).format(*args)


@dataclass(frozen=True, slots=True)
class Ticket:
	"""One legacy ticket as read, joined with its account's address and department name.

	The one normalised row every source yields (see the README): `due_date` and
	`last_update` are Unix epoch seconds; `priority` is gestionclient's number
	(1 low, 2 medium, 3+ high) or already a level name from PRIORITIES.
	"""

	id: int
	account_id: int | None = None
	dept_id: int | None = None
	subject: str | None = None
	status: str = "open"
	priority: int | str | None = 2
	assign_to: int | None = None
	due_date: int | None = None
	due_time: str | None = None
	last_update: int = 0
	address: str | None = None
	city: str | None = None
	zip: str | None = None
	dept_name: str | None = None


@dataclass(frozen=True)
class Department:
	dept_id: int
	name: str = ""
	job_type: str = "Autre"
	duration_h: float | None = None
	included: bool = True


class Location(NamedTuple):
	"""A service location (a tuple: a run builds one per location of the selection's accounts)."""

	name: str
	city: str | None = None
	latitude: float | None = None
	longitude: float | None = None


@dataclass
class Config:
	"""The settings that drive the mapping; the defaults are SPEC §4's."""

	staff_id: int = 3301
	time_zone: str = "America/Toronto"
	departments: dict[int, Department] = field(default_factory=dict)
	durations: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DURATIONS))

	def department(self, ticket: Ticket) -> Department:
		dept = self.departments.get(ticket.dept_id)
		if dept:
			return dept
		name = ticket.dept_name or ""
		return Department(ticket.dept_id or 0, name, job_type_for_name(name), None, True)

	def duration(self, dept: Department) -> float:
		if dept.duration_h:
			return float(dept.duration_h)
		return float(
			self.durations.get(dept.job_type) or DEFAULT_DURATIONS.get(dept.job_type, DEFAULT_DURATION)
		)


@dataclass
class Directory:
	"""What the site knows: customers by legacy account id, service locations by customer."""

	customers: dict[str, list[str]] = field(default_factory=dict)
	locations: dict[str, list[Location]] = field(default_factory=dict)


@dataclass(slots=True)
class Mapped:
	ticket: Ticket
	fields: dict
	included: bool
	warnings: list[str]
	customer_match: str  # matched / unmatched / ambiguous / internal
	location_match: str  # matched / no city match / no location / -


def fold(text: str | None) -> str:
	"""Case-, accent- and spacing-insensitive key ('Saint-Jérôme ' == 'saint jerome')."""
	text = unicodedata.normalize("NFKD", text or "")
	text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
	return " ".join(re.sub(r"[-_'.,]", " ", text).split())


def job_type_for_name(name: str | None) -> str:
	key = fold(name)
	if key.startswith("install"):
		return "Installation"
	if key.startswith("repar"):
		return "Réparation"
	if key.startswith("retrait"):
		return "Retrait"
	return "Autre"


def is_field_department(name: str | None) -> bool:
	key = fold(name)
	return not any(word in key for word in NON_FIELD_WORDS)


def clean_text(text: str | None) -> str:
	"""One line of plain text: tags removed, entities decoded, no control characters.

	Angle brackets left over are replaced, so Frappe's HTML sanitiser (which runs
	after the length check and may grow the text) never changes what we store.
	"""
	text = html.unescape(re.sub(r"</?[A-Za-z!][^>]*>", " ", text or ""))
	text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
	return " ".join(text.replace("<", "‹").replace(">", "›").split())


def cut(text: str, limit: int = SUBJECT_MAX) -> str:
	return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def scheduled_date(epoch, tz_name: str, warnings: list[str]) -> date | None:
	if epoch in (None, 0):
		return None
	try:
		if int(epoch) < 0:
			raise ValueError
		return datetime.fromtimestamp(int(epoch), pytz.timezone(tz_name)).date()
	except (TypeError, ValueError, OverflowError, OSError):
		warnings.append(Text("due_date: unusable value {0!r}, no scheduled date", epoch))
		return None


TIME_WORDS = {"am": time(8, 0), "pm": time(13, 0), "day": None, "": None}


def start_time(raw, warnings: list[str]) -> time | None:
	if raw is None:
		return None
	key = str(raw).strip().lower()
	if key in TIME_WORDS:
		return TIME_WORDS[key]
	m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", key)
	if m and int(m[1]) < 24 and int(m[2]) < 60 and int(m[3] or 0) < 60:
		return time(int(m[1]), int(m[2]), int(m[3] or 0))
	warnings.append(Text("due_time: unusable value {0!r}, no start time", raw))
	return None


def priority(raw, warnings: list[str]) -> str:
	"""1 low, 2 medium, 3+ high (SPEC §2); a level name (low, medium, high, urgent) is kept."""
	if isinstance(raw, str) and raw.strip().lower() in PRIORITIES:
		return raw.strip().lower()
	try:
		value = int(raw)
	except (TypeError, ValueError):
		value = 0
	if value < 1:
		warnings.append(Text("priority: unusable value {0!r}, set to medium", raw))
		return "medium"
	return {1: "low", 2: "medium"}.get(value, "high")


def match_customer(ticket: Ticket, directory: Directory, warnings: list[str]) -> tuple[str | None, str]:
	if not ticket.account_id:
		return None, "internal"
	names = directory.customers.get(str(ticket.account_id), [])
	if len(names) == 1:
		return names[0], "matched"
	if names:
		warnings.append(
			Text(
				"customer: account {0} is claimed by {1} customers ({2}), none set",
				ticket.account_id,
				len(names),
				", ".join(sorted(names)),
			)
		)
		return None, "ambiguous"
	return None, "unmatched"


def match_location(customer: str | None, city: str | None, directory: Directory, warnings: list[str]):
	if not customer:
		return None, "-"
	candidates = directory.locations.get(customer, [])
	if not candidates:
		return None, "no location"
	same_city = sorted(
		(loc for loc in candidates if fold(loc.city) and fold(loc.city) == fold(city)), key=lambda l: l.name
	)
	if not same_city:
		return None, "no city match"
	if len(same_city) > 1:
		warnings.append(
			Text(
				"service_location: {0} locations in {1!r}, first one ({2}) used",
				len(same_city),
				city,
				same_city[0].name,
			)
		)
	return same_city[0], "matched"


def map_ticket(ticket: Ticket, config: Config, directory: Directory) -> Mapped:
	"""The Dispatch Job fields a ticket maps to (SPEC §4), with its warnings."""
	warnings: list[str] = []
	dept = config.department(ticket)
	if ticket.dept_id not in config.departments and config.departments:
		warnings.append(
			Text(
				"dept_id: department {0!r} is not in the department map, job type {1}",
				ticket.dept_id,
				dept.job_type,
			)
		)
	customer, customer_match = match_customer(ticket, directory, warnings)
	location, location_match = match_location(customer, ticket.city, directory, warnings)

	subject = clean_text(ticket.subject)
	if not subject:
		warnings.append(Text("subject: empty value {0!r}, ticket number used", ticket.subject))
		subject = f"Ticket LEG-{ticket.id}"
	if not location:
		address = ", ".join(p for p in (clean_text(ticket.address), clean_text(ticket.city)) if p)
		if address:
			subject = f"{subject} — {address}"

	fields = {
		"ticket_id": f"LEG-{ticket.id}",
		"subject": cut(subject),
		"note": subject,
		"customer": customer,
		"service_location": location.name if location else None,
		"latitude": location.latitude if location else None,
		"longitude": location.longitude if location else None,
		"job_type": dept.job_type if dept.job_type in JOB_TYPES else "Autre",
		"scheduled_date": scheduled_date(ticket.due_date, config.time_zone, warnings),
		"start_time": start_time(ticket.due_time, warnings),
		"duration_h": config.duration(dept),
		"priority": priority(ticket.priority, warnings),
		"status": "open",
	}
	return Mapped(ticket, fields, dept.included, warnings, customer_match, location_match)
