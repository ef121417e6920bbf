"""bench --site SITE legacy-dispatch preview | run | status"""

import json

import click
import frappe
from frappe.commands import get_site, pass_context


def on_site(context):
	"""Connect to the one site given with --site; yields once, then disconnects."""
	from legacy_dispatch.core.legacy import LegacyError
	from legacy_dispatch.sync import NotReady

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		yield
	except (LegacyError, NotReady) as e:
		raise click.ClickException(str(e))
	finally:
		frappe.destroy()


@click.group("legacy-dispatch")
def legacy_dispatch():
	"""The legacy helpdesk bridge."""


@legacy_dispatch.command("preview")
@pass_context
def preview(context):
	"""What a run would do now, ticket by ticket (writes nothing)."""
	from legacy_dispatch.core.planner import summary
	from legacy_dispatch.core.preflight import describe
	from legacy_dispatch.sync import plan_now

	for _ in on_site(context):
		decisions = plan_now()
		for d in decisions:
			click.echo(describe(d))
		click.echo(json.dumps(summary(decisions)))


@legacy_dispatch.command("run")
@pass_context
def run(context):
	"""Run the sync now, in this process; exits 1 if the run failed."""
	from legacy_dispatch.sync import run as run_sync

	for _ in on_site(context):
		out = run_sync("CLI", "Administrator")
		click.echo(json.dumps(out, default=str))
		if out["status"] == "Failed":
			raise SystemExit(1)


@legacy_dispatch.command("status")
@pass_context
def status(context):
	"""Last run, last success and warnings; exits 1 when something needs attention."""
	from legacy_dispatch.health import health

	for _ in on_site(context):
		state = health()
		click.echo(json.dumps(state, indent=1, default=str))
		if state["warnings"]:
			raise SystemExit(1)


commands = [legacy_dispatch]
