"""Whitelisted methods: /api/method/legacy_dispatch.api.<name>. System Managers and Legacy
Dispatch Managers, but the job form's methods: for whoever may read (or change) the job."""

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime

from legacy_dispatch import health as health_check
from legacy_dispatch import jobs, sync
from legacy_dispatch.core.legacy import LegacyError
from legacy_dispatch.core.planner import COUNT_FIELDS

ROLES = ("System Manager", "Legacy Dispatch Manager")


@frappe.whitelist(methods=["GET"])
def preview() -> dict:
	"""What a run would create, update, cancel and skip, ticket by ticket. Writes nothing."""
	frappe.only_for(ROLES)
	try:
		return sync.preview()
	except LegacyError as e:
		frappe.throw(str(e), title=_("Legacy database unreachable"))


@frappe.whitelist(methods=["POST"])
def run() -> dict:
	"""Run the sync now, in this request; returns its counts and its Sync Log."""
	frappe.only_for(ROLES)
	return sync.run("API")


@frappe.whitelist(methods=["POST"])
def enqueue_run() -> dict:
	"""The settings form's "Run legacy sync" button: queue a run under the scheduler's job id."""
	frappe.only_for(ROLES)
	job = sync.enqueue("Button")
	if job is None:
		return {"queued": False, "message": _("A legacy sync is already queued or running.")}
	return {"queued": True, "message": _("Legacy sync queued."), "since": now_datetime()}


@frappe.whitelist(methods=["GET"])
def run_since(since: str) -> dict | None:
	"""The button's result when realtime is not there: the first run started since `since`."""
	frappe.only_for(ROLES)
	logs = frappe.get_all(
		"Sync Log",
		filters={"started": (">=", since), "trigger": "Button"},
		fields=["name as log", "status", "message", *COUNT_FIELDS],
		order_by="started asc",
		limit=1,
	)
	return logs[0] if logs else None


@frappe.whitelist(methods=["GET"])
def health() -> dict:
	"""Last run, last success, and what needs attention (shown on the settings form)."""
	frappe.only_for(ROLES)
	return health_check.health()


def job_doc(job: str, permission: str):
	doc = frappe.get_doc("Dispatch Job", job)
	doc.check_permission(permission)
	if not jobs.legacy_key(doc):
		frappe.throw(_("This job has no legacy ticket."))
	return doc


@frappe.whitelist(methods=["GET"])
def legacy_state(job: str) -> dict:
	"""The Dispatch Job form's line: who owns the job, its ticket's link, the write-back."""
	doc = frappe.get_doc("Dispatch Job", job)
	doc.check_permission("read")
	return jobs.state(doc)


@frappe.whitelist(methods=["POST"])
def hand_back(job: str) -> dict:
	"""The bridge takes a job dispatch owns over again; legacy changes flow from then on."""
	doc = job_doc(job, "write")
	jobs.hand_back(doc)
	return jobs.state(doc)


@frappe.whitelist(methods=["POST"])
def update_now(job: str) -> dict:
	"""Apply the legacy ticket's current values to this job now; what changed."""
	return jobs.update_now(job_doc(job, "write"))


# the workspace's number cards (Number Card type Custom: called with the card's filters)


@frappe.whitelist()
def card_last_run(filters=None) -> str:
	frappe.only_for(ROLES)
	return health_check.last_run_text()


@frappe.whitelist()
def card_jobs_created(filters=None) -> dict:
	frappe.only_for(ROLES)
	day_ago = add_to_date(now_datetime(), days=-1)
	filters = {"legacy_ticket_id": ("is", "set"), "creation": (">", day_ago)}
	count = frappe.db.count("Dispatch Job", filters)
	return {"value": count, "fieldtype": "Int", "route": ["List", "Dispatch Job"], "route_options": filters}


@frappe.whitelist()
def card_unmatched_accounts(filters=None) -> dict:
	frappe.only_for(ROLES)
	last = health_check.last_log(health_check.DONE)
	value = last.unmatched_accounts if last else 0
	return {"value": value, "fieldtype": "Int", "route": ["query-report", "Unmatched Customers"]}


@frappe.whitelist()
def card_problems(filters=None) -> dict:
	frappe.only_for(ROLES)
	value = len(health_check.health()["warnings"])
	return {"value": value, "fieldtype": "Int", "route": ["Form", health_check.SETTINGS]}
