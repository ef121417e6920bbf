"""Whitelisted methods: /api/method/legacy_dispatch.api.<name>. System Managers only, but
`legacy_state`, for whoever may read the Dispatch Job."""

import frappe
from frappe import _

from legacy_dispatch import health as health_check
from legacy_dispatch import sync, writeback
from legacy_dispatch.core.legacy import LegacyError

ROLES = ("System Manager",)


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
	return {"queued": True, "message": _("Legacy sync queued.")}


@frappe.whitelist(methods=["GET"])
def health() -> dict:
	"""Last run, last success, and what needs attention (shown on the settings form)."""
	frappe.only_for(ROLES)
	return health_check.health()


@frappe.whitelist(methods=["GET"])
def legacy_state(job: str) -> dict:
	"""The Dispatch Job form's line about its legacy ticket (write-back in step or waiting)."""
	doc = frappe.get_doc("Dispatch Job", job)
	doc.check_permission("read")
	return writeback.state(doc)
