"""The bad-input catalogue end to end: every ticket becomes a job or a logged outcome, none
is silently dropped. The rules themselves are unit-tested in core/tests/mapping_test.py."""

import frappe
from frappe.utils import get_time

from legacy_dispatch import sync
from legacy_dispatch.tests.utils import BridgeTestCase, clean_site, ensure_target_doctypes, fresh_legacy

# (ticket columns, expected job fields, expected warning or None)
CATALOGUE = [
	({"due_time": "25:99"}, {"start_time": None}, "due_time: unusable value '25:99'"),
	({"due_time": "9h30"}, {"start_time": None}, "due_time: unusable value '9h30'"),
	({"due_time": " PM "}, {"start_time": "13:00:00"}, None),
	({"due_time": "midi"}, {"start_time": None}, "due_time: unusable value 'midi'"),
	({"due_date": 0}, {"scheduled_date": None}, None),
	({"due_date": -3600}, {"scheduled_date": None}, "due_date: unusable value -3600"),
	({"due_date": 2147483647}, {"scheduled_date": "2038-01-18"}, None),  # the INT column's maximum
	({"subject": None}, {"subject": "Ticket LEG-{id}"}, "subject: empty value None"),
	({"subject": ""}, {"subject": "Ticket LEG-{id}"}, "subject: empty value ''"),
	({"subject": "   "}, {"subject": "Ticket LEG-{id}"}, "subject: empty value '   '"),
	({"subject": "x" * 200}, {"subject": "x" * 139 + "…", "note": "x" * 200}, None),
	({"subject": "Fibre 🔥 coupée"}, {"subject": "Fibre 🔥 coupée"}, None),
	({"subject": "<script>alert(1)</script><b>Panne</b>"}, {"subject": "alert(1) Panne"}, None),
	({"subject": "1 < 2 & 3 > 2"}, {"subject": "1 ‹ 2 & 3 › 2"}, None),
	({"priority": 0}, {"priority": "medium"}, "priority: unusable value 0"),
	({"priority": -1}, {"priority": "medium"}, "priority: unusable value -1"),
	({"priority": 99}, {"priority": "high"}, None),
	({"account_id": 0}, {"customer": None}, None),
	({"account_id": None}, {"customer": None}, None),
	({"account_id": 9999}, {"customer": None}, None),
	({"account_id": 7007}, {"customer": None}, "claimed by 2 customers"),
	({"account_id": 6006}, {"customer": "LD Bad Input A", "service_location": "{loc}"}, None),
	({"account_id": 6007}, {"customer": "LD Bad Input B", "service_location": None}, None),  # city NULL
	({"dept_id": 404}, {"job_type": "Autre", "duration_h": 1}, None),
]


class TestBadInput(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_target_doctypes()
		for name, account in (
			("LD Bad Input A", "6006"),
			("LD Bad Input B", "6007"),
			("LD Twin 1", "7007"),
			("LD Twin 2", "7007"),
		):
			if not frappe.db.exists("Customer", name):
				frappe.get_doc(
					{"doctype": "Customer", "customer_name": name, "legacy_account_id": account}
				).insert()
		if not frappe.db.exists("Service Location", {"customer": "LD Bad Input A"}):
			frappe.get_doc(
				{"doctype": "Service Location", "customer": "LD Bad Input A", "city": "Montréal"}
			).insert()
		cls.location = frappe.db.get_value("Service Location", {"customer": "LD Bad Input A"})
		frappe.db.commit()

	def setUp(self):
		clean_site()
		self.legacy = fresh_legacy()
		self.legacy.account(6006, address1="1 rue Sainte-Catherine", city="MONTREAL")
		self.legacy.account(6007, address1="2 rang Nord", city=None)

	def tearDown(self):
		self.legacy.admin.close()

	def test_catalogue_every_ticket_becomes_a_job_with_a_defined_outcome(self):
		ids = [self.legacy.ticket(**cols) for cols, _fields, _warning in CATALOGUE]
		out = sync.run()
		self.assertEqual((out["status"], out["created"], out["errors"]), ("Success", len(ids), 0))
		log = frappe.get_doc("Sync Log", out["log"])
		rows = {r.legacy_ticket_id: r for r in log.outcomes}
		for ticket_id, (cols, fields, warning) in zip(ids, CATALOGUE, strict=True):
			with self.subTest(cols=cols):
				job = frappe.get_all(
					"Dispatch Job", filters={"legacy_ticket_id": str(ticket_id)}, fields=["*"]
				)[0]
				for field, expected in fields.items():
					value = job[field]
					if isinstance(expected, str):
						expected = expected.format(id=ticket_id, loc=self.location)
					if field == "start_time" and value is not None:
						value, expected = get_time(value), get_time(expected)
					elif field == "scheduled_date" and value is not None:
						value = str(value)
					self.assertEqual(value, expected, field)
				if warning:
					self.assertIn(warning, rows[str(ticket_id)].warnings)
				else:
					self.assertEqual(rows[str(ticket_id)].warnings or "", "")

	def test_every_ticket_of_a_run_appears_in_its_log(self):
		ids = [self.legacy.ticket(**cols) for cols, _fields, _warning in CATALOGUE]
		self.legacy.update(ids[0], status="closed")  # selected no more
		sync.run()
		self.legacy.update(ids[1], subject="Changé")
		self.legacy.sql("DELETE FROM ticket WHERE id = %s", [ids[2]])
		out = sync.run()
		log = frappe.get_doc("Sync Log", out["log"])
		logged = {r.legacy_ticket_id for r in log.outcomes} | set((log.unchanged_tickets or "").split(", "))
		self.assertEqual(logged, {str(i) for i in ids[1:]})
		self.assertEqual(out["tickets"], len(ids) - 1)
		actions = {r.legacy_ticket_id: r.action for r in log.outcomes}
		self.assertEqual((actions[str(ids[1])], actions[str(ids[2])]), ("update", "cancel"))
