"""The other legacy sources on a real site: osTicket and a custom query, end to end."""

import frappe

from legacy_dispatch import sync
from legacy_dispatch.core.testing import OsTicket
from legacy_dispatch.tests.utils import (
	OWN_TICKETS,
	BridgeTestCase,
	clean_site,
	ensure_target_doctypes,
	fresh_legacy,
	legacy_server,
)

STAFF = 7


def settings(**values):
	doc = frappe.get_single("Legacy Dispatch Settings")
	doc.update(values)
	doc.save()
	return doc


def job(ticket_id) -> frappe._dict:
	return frappe.get_all("Dispatch Job", filters={"legacy_ticket_id": str(ticket_id)}, fields=["*"])[0]


class TestSources(BridgeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_target_doctypes()
		if not frappe.db.exists("Customer", "LD osTicket User"):
			frappe.get_doc(
				{
					"doctype": "Customer",
					"customer_name": "LD osTicket User",
					"legacy_account_id": "osticket-user",
				}
			).insert()
		frappe.db.commit()

	def setUp(self):
		clean_site()
		self.legacy = (
			fresh_legacy()
		)  # the connection settings; the osTicket tables go in a database of their own

	def tearDown(self):
		self.legacy.admin.close()
		settings(source_profile="gestionclient", staff_id=3301)
		frappe.db.commit()

	def test_osticket_end_to_end(self):
		ost = OsTicket(legacy_server(), self.legacy.conn.database + "_ost")
		for table in ("ticket", "user"):  # the tests' own ids, which no Customer of the site holds
			ost.sql(f"ALTER TABLE {ost.t(table)} AUTO_INCREMENT = {OWN_TICKETS}")
		ost.department(1, "Installation")
		user = ost.user("Marie Tremblay", address="12 rue Principale", city="Laval")
		frappe.db.set_value("Customer", "LD osTicket User", "legacy_account_id", str(user))
		a = ost.ticket(
			"Installation fibre", "high", user, dept_id=1, staff_id=STAFF, duedate="2026-11-23 23:30:00"
		)
		b = ost.ticket("Urgence", "emergency", user, dept_id=1, staff_id=STAFF)
		ost.ticket("Autre agent", "normal", user, dept_id=1, staff_id=99)
		settings(
			source_profile="osTicket",
			database=ost.conn.database,
			staff_id=STAFF,
			table_prefix="ost_",
			assignee="staff",
			customer_key="user",
		)

		out = sync.run()
		self.assertEqual((out["status"], out["created"], out["unmatched_customer"]), ("Success", 2, 0))
		ja = job(a)
		self.assertEqual(
			(ja.priority, ja.job_type, ja.customer), ("high", "Installation", "LD osTicket User")
		)
		self.assertEqual(
			ja.subject, "Installation fibre — 12 rue Principale, Laval"
		)  # no Service Location: the address
		self.assertEqual(str(ja.scheduled_date), "2026-11-23")  # 23:30 on a UTC server, read in Toronto
		self.assertEqual(job(b).priority, "urgent")

		ost.drop_cdata()  # osTicket rebuilds it at runtime: the first message's title stands in
		c = ost.ticket("Sans cdata", "normal", user, dept_id=1, staff_id=STAFF)
		ost.set_status(b, "Closed")
		out = sync.run()
		self.assertEqual((out["created"], out["cancelled"]), (1, 1))
		self.assertEqual(job(c).subject, "Sans cdata — 12 rue Principale, Laval")
		self.assertEqual(job(b).status, "cancelled")
		ost.admin.close()

	def test_custom_query_refused_at_save_then_end_to_end(self):
		for query, message in (
			("UPDATE ticket SET status = 'closed'", "SELECT"),
			("SELECT id FROM ticket; SELECT 1", ";"),
			("SELECT id, subject FROM ticket", "missing"),
		):
			with self.subTest(query=query), self.assertRaisesRegex(frappe.ValidationError, message):
				settings(source_profile="custom", custom_query=query)
		self.legacy.ticket(subject="Par requête", due_date=1795494600)
		query = (
			"SELECT id, subject, status, assign_to, due_date, priority, account_id, dept_id, due_time "
			"FROM ticket WHERE dept_id = 1"
		)
		settings(source_profile="custom", custom_query=query)
		out = sync.run()
		self.assertEqual((out["status"], out["created"]), ("Success", 1))
		self.assertEqual(
			str(
				frappe.get_all("Dispatch Job", filters={"subject": "Par requête"}, pluck="scheduled_date")[0]
			),
			"2026-11-23",
		)
