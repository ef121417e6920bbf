"""Is the bridge healthy? Told on the settings form, by `bench legacy-dispatch status`, and to
System Managers by a notification once runs keep failing."""

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, format_datetime, get_datetime, now_datetime
from frappe.utils.scheduler import is_dormant, is_scheduler_disabled, is_scheduler_inactive

SETTINGS = "Legacy Dispatch Settings"
DONE = ("Success", "Partial")  # runs that went through, possibly with some tickets refused
LOG_FIELDS = [
	"name",
	"status",
	"trigger",
	"started",
	"duration",
	"message",
	"tickets",
	"created",
	"updated",
	"cancelled",
	"errors",
	"unmatched_accounts",
]


def last_log(statuses) -> dict | None:
	logs = frappe.get_all(
		"Sync Log", filters={"status": ("in", statuses)}, fields=LOG_FIELDS, order_by="started desc", limit=1
	)
	return logs[0] if logs else None


def consecutive_failures() -> int:
	"""How many of the latest runs failed, back to the last one that went through."""
	statuses = frappe.get_all(
		"Sync Log",
		filters={"status": ("in", ("Failed", *DONE))},
		pluck="status",
		order_by="started desc",
		limit=50,
	)
	return next((i for i, s in enumerate(statuses) if s != "Failed"), len(statuses))


def stale(last_success, period: int) -> bool:
	"""No successful run within three sync periods."""
	return not last_success or get_datetime(last_success.started) < add_to_date(
		now_datetime(), minutes=-3 * period
	)


def health() -> dict:
	settings = frappe.get_single(SETTINGS)
	period = max(cint(settings.sync_period), 1)
	last, last_success = last_log(("Failed", *DONE)), last_log(DONE)
	failures = consecutive_failures()
	from legacy_dispatch.sync import schema_problems  # sync and writeback import this module
	from legacy_dispatch.writeback import backlog

	warnings = schema_problems()
	if settings.enabled:
		if is_scheduler_disabled(verbose=False):
			warnings.append(_("The scheduler is disabled on this site: no automatic run will happen."))
		elif is_scheduler_inactive(verbose=False):
			warnings.append(
				_(
					"The scheduler is paused (maintenance mode or pause_scheduler): no automatic run will happen."
				)
			)
		if is_dormant():
			warnings.append(
				_(
					"The site is dormant (nobody logged in for days): Frappe runs scheduled jobs only once a day."
				)
			)
		if stale(last_success, period):
			warnings.append(
				_("No successful run for more than three sync periods ({0} minutes).").format(3 * period)
			)
	if failures:
		warnings.append(_("The last {0} run(s) failed: {1}").format(failures, last.message if last else ""))
	writeback = backlog()
	if writeback["since"] and get_datetime(writeback["since"]) < add_to_date(now_datetime(), minutes=-period):
		warnings.append(
			_("{0} write-back(s) to legacy waiting since {1}: {2}").format(
				writeback["pending"],
				format_datetime(writeback["since"]),
				writeback["message"] or _("not sent yet"),
			)
		)
	return {
		"writeback": writeback,
		"enabled": bool(settings.enabled),
		"period": period,
		"last_run": last,
		"last_success": last_success,
		"consecutive_failures": failures,
		"warnings": warnings,
	}


def last_run_text() -> str:
	"""The last run and its status, in a line ("Success · 2026-11-23 08:15")."""
	last = last_log(("Failed", *DONE))
	if not last:
		return _("Never run")
	return f"{_(last.status)} · {format_datetime(last.started, 'yyyy-MM-dd HH:mm')}"


def managers() -> list[str]:
	"""Enabled System Managers and Legacy Dispatch Managers, and Administrator."""
	users = frappe.get_all(
		"Has Role",
		filters={
			"role": ("in", ("System Manager", "Legacy Dispatch Manager")),
			"parenttype": "User",
			"parent": ("not in", ("Administrator", "Guest")),
		},
		pluck="parent",
		distinct=True,
	)
	enabled = (
		frappe.get_all("User", filters={"name": ("in", users), "enabled": 1}, pluck="name") if users else []
	)
	return [*enabled, "Administrator"]


def alerts() -> list[str]:
	"""What a manager must hear of even when the scheduler is dead: no success for three
	periods while the sync is enabled, or the last N runs all Partial (N: the alert setting)."""
	settings = frappe.get_single(SETTINGS)
	period = max(cint(settings.sync_period), 1)
	out = []
	if settings.enabled and stale(last_log(DONE), period):
		out.append(
			_("Legacy sync: no successful run for more than three sync periods ({0} minutes).").format(
				3 * period
			)
		)
	n = cint(settings.alert_after_failures) or 3
	statuses = frappe.get_all(
		"Sync Log",
		filters={"status": ("in", ("Failed", *DONE))},
		pluck="status",
		order_by="started desc",
		limit=n,
	)
	if len(statuses) == n and set(statuses) == {"Partial"}:
		out.append(
			_("Legacy sync: the last {0} runs ended Partial: the site refused some tickets.").format(n)
		)
	return out


def desk_alerts(bootinfo) -> None:
	"""extend_bootinfo hook (run at every Desk load, cached boot or not): a manager opening the Desk gets the alerts, as a notification (once a
	day per alert) and in the boot info (shown at once by the Desk bundle)."""
	if not set(frappe.get_roles()) & {"System Manager", "Legacy Dispatch Manager"}:
		return
	problems = alerts()
	bootinfo.legacy_dispatch_alerts = problems
	day_ago = add_to_date(now_datetime(), days=-1)
	for subject in problems:
		seen = {"for_user": frappe.session.user, "subject": subject, "creation": (">", day_ago)}
		if not frappe.db.exists("Notification Log", seen):
			notify(frappe.session.user, subject, None)
			frappe.db.commit()  # nosemgrep: the Desk is loaded by a GET, which Frappe does not commit


def notify(user: str, subject: str, log_name: str | None, content: str | None = None) -> None:
	frappe.get_doc(
		{
			"doctype": "Notification Log",
			"for_user": user,
			"type": "Alert",
			"document_type": "Sync Log" if log_name else SETTINGS,
			"document_name": log_name or SETTINGS,
			"subject": subject,
			"email_content": content,
		}
	).insert(ignore_permissions=True)


def alert_if_failing(log_name: str) -> None:
	"""After N failed runs in a row (N a setting), notify the managers, once."""
	threshold = cint(frappe.db.get_single_value(SETTINGS, "alert_after_failures"))
	if not threshold or consecutive_failures() != threshold:
		return
	subject = _("Legacy sync: the last {0} runs failed").format(threshold)
	content = frappe.db.get_value("Sync Log", log_name, "message")
	for user in managers():
		notify(user, subject, log_name, content)
