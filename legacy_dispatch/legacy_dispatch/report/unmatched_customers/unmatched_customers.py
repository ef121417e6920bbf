# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

"""Legacy accounts with open field tickets that no Customer claims, and the most likely
existing Customer for each, so the team can set its legacy_account_id."""

from collections import Counter

import frappe
from frappe import _

from legacy_dispatch.core.legacy import LegacyError
from legacy_dispatch.core.mapping import fold
from legacy_dispatch.core.matching import Candidate, likely_customer
from legacy_dispatch.core.planner import build_plan, unmatched
from legacy_dispatch.sync import load_directory, load_jobs, open_legacy


def execute(filters=None):
	columns = [
		{"fieldname": "account_id", "label": _("Legacy Account ID"), "fieldtype": "Data", "width": 130},
		{"fieldname": "account_name", "label": _("Name"), "fieldtype": "Data", "width": 200},
		{"fieldname": "open_tickets", "label": _("Open Tickets"), "fieldtype": "Int", "width": 110},
		{"fieldname": "todo", "label": _("What to Do"), "fieldtype": "Data", "width": 420},
		{"fieldname": "tickets", "label": _("Tickets"), "fieldtype": "Data", "width": 160},
		{
			"fieldname": "likely_customer",
			"label": _("Most Likely Customer"),
			"fieldtype": "Link",
			"options": "Customer",
			"width": 220,
		},
		{"fieldname": "score", "label": _("Score"), "fieldtype": "Float", "precision": 2, "width": 80},
		{"fieldname": "address", "label": _("Address"), "fieldtype": "Data", "width": 200},
		{"fieldname": "city", "label": _("City"), "fieldtype": "Data", "width": 130},
	]
	return columns, rows()


def rows() -> list[dict]:
	try:
		source, config = open_legacy()
		with source:
			missing = unmatched(build_plan(source, config, load_jobs(), load_directory))
			accounts = source.accounts({d.mapped.ticket.account_id for d in missing})
	except LegacyError as e:
		frappe.throw(str(e), title=_("Legacy database unreachable"))
	counts = Counter(d.mapped.ticket.account_id for d in missing)
	tickets = {d.mapped.ticket.account_id: d.mapped.ticket for d in missing}
	ids: dict[int, list[str]] = {}
	for d in missing:
		ids.setdefault(d.mapped.ticket.account_id, []).append(f"LEG-{d.legacy_ticket_id}")
	candidates = customers_without_legacy_id()
	out = []
	for account_id, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
		t = tickets[account_id]
		name, address, city = accounts.get(account_id) or (None, t.address, t.city)
		best = likely_customer(name or "", city, candidates)
		numbers = ", ".join(ids[account_id])
		if best:
			todo = _("If {0} is this account, set its Legacy Account ID to {1}.").format(best[0], account_id)
		elif not (name or address):
			todo = _(
				"No name or address in legacy: find the customer of tickets {0} and set its Legacy Account ID to {1}."
			).format(numbers, account_id)
		else:
			todo = _("Set Legacy Account ID {0} on this account's Customer (create it if missing).").format(
				account_id
			)
		out.append(
			{
				"account_id": str(account_id),
				"account_name": name,
				"address": address,
				"city": city,
				"open_tickets": n,
				"likely_customer": best[0] if best else None,
				"score": best[1] if best else None,
				"tickets": numbers,
				"todo": todo,
			}
		)
	return out


def customers_without_legacy_id() -> list[Candidate]:
	cities: dict[str, set[str]] = {}
	for loc in frappe.get_all("Service Location", fields=["customer", "city"]):
		cities.setdefault(loc.customer, set()).add(fold(loc.city))
	customers = frappe.get_all(
		"Customer", filters={"legacy_account_id": ("is", "not set")}, fields=["name", "customer_name"]
	)
	return [Candidate(c.name, frozenset(cities.get(c.name, ())), c.customer_name) for c in customers]
