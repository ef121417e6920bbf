"""Install and migrate on a live site: the target doctypes must exist, and a
`legacy_ticket_id` field left by the old Node bridge is checked and prepared before the
app's fixtures make it unique."""

import frappe
from frappe import _
from frappe.utils import cstr

from legacy_dispatch.sync import schema_problems

TARGET_DOCTYPES = ("Dispatch Job", "Customer", "Service Location", "Dispatch Technician")
FIELD = "Dispatch Job-legacy_ticket_id"
EMPTY = ("", "0")  # an Int field stores 0 for "no ticket"


def before_install():
	"""The bridge writes to doctypes the site must already have; it never creates them."""
	missing = [dt for dt in TARGET_DOCTYPES if not frappe.db.exists("DocType", dt)]
	if missing:
		frappe.throw(
			_("Legacy Dispatch needs these doctypes on the site before it is installed: {0}").format(
				", ".join(missing)
			),
			title=_("Missing doctypes"),
		)
	if not frappe.get_meta("Customer").has_field("legacy_account_id"):
		frappe.throw(_("Customer needs the field legacy_account_id (Data) holding the legacy account id."))
	prepare_legacy_ticket_id()


def prepare_legacy_ticket_id():
	"""Before the fixtures make `legacy_ticket_id` a unique Data field (install, and every
	migrate): refuse, changing nothing, while several jobs share a ticket; turn an Int
	field into Data (values kept); store "no ticket" as NULL, which the unique index allows
	any number of times. Nothing to do where the app's fields are already in place."""
	if not frappe.db.has_column("Dispatch Job", "legacy_ticket_id") or not schema_problems():
		return
	duplicates = duplicated_tickets()
	if duplicates:
		frappe.throw(describe(duplicates), title=_("Several Dispatch Jobs share a legacy ticket"))
	if frappe.db.get_value("Custom Field", FIELD, "fieldtype") not in (None, "Data"):
		field = frappe.get_doc("Custom Field", FIELD)
		field.fieldtype, field.unique = "Data", 0
		field.flags.ignore_validate = True  # Frappe's form refuses Int -> Data; the column takes it
		field.save(ignore_permissions=True)  # ALTERs the column: the numbers become their text
		if frappe.db.db_type == "postgres":  # an Int column was NOT NULL; a ticketless job is NULL
			frappe.db.sql('ALTER TABLE "tabDispatch Job" ALTER COLUMN legacy_ticket_id DROP NOT NULL')
	job = frappe.qb.DocType("Dispatch Job")
	frappe.qb.update(job).set(job.legacy_ticket_id, None).where(job.legacy_ticket_id.isin(EMPTY)).run()


def duplicated_tickets() -> dict[str, list]:
	"""Legacy ticket id -> its jobs (name, status, technician), for ids held by several."""
	tickets: dict[str, list] = {}
	for job in frappe.get_all(
		"Dispatch Job", fields=["name", "legacy_ticket_id", "status", "assigned_tech"], order_by="creation"
	):
		key = cstr(job.legacy_ticket_id).strip()
		if key not in EMPTY:
			tickets.setdefault(key, []).append(job)
	return {key: jobs for key, jobs in tickets.items() if len(jobs) > 1}


def describe(duplicates: dict[str, list]) -> str:
	lines = [
		_("Legacy ticket {0}: {1}").format(
			key,
			"; ".join(
				f"{j.name} ({_(j.status or '-')}, {j.assigned_tech or _('no technician')})" for j in jobs
			),
		)
		for key, jobs in sorted(duplicates.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)
	]
	return "\n".join(
		[
			_("One legacy ticket may have only one Dispatch Job, and these have several:"),
			*lines,
			_(
				"For each ticket, keep the job dispatch works with, and delete the others or clear their Legacy Ticket ID. Then run the same command again: nothing of Legacy Dispatch was installed or changed."
			),
		]
	)
