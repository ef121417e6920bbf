"""Who may use the bridge, over HTTP, and where the legacy password may never appear."""

import frappe
from frappe.tests.test_api import FrappeAPITestCase

from legacy_dispatch import sync
from legacy_dispatch.tests.utils import (
	BridgeTestCase,
	clean_site,
	ensure_target_doctypes,
	fresh_legacy,
	own_jobs,
)

SECRET = "S3cret-Leg4cy!"
METHODS = [
	("get", "legacy_dispatch.api.preview"),
	("post", "legacy_dispatch.api.run"),
	("post", "legacy_dispatch.api.enqueue_run"),
]


def api_user(email: str, roles: list[str]) -> str:
	"""A user with an API key; returns its `Authorization` header."""
	if not frappe.db.exists("User", email):
		frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": email.split("@")[0], "send_welcome_email": 0}
		).insert()
	user = frappe.get_doc("User", email)
	user.set("roles", [{"role": r} for r in roles])
	user.api_key = frappe.generate_hash(length=15)
	secret = frappe.generate_hash(length=15)
	user.api_secret = secret
	user.save()
	return f"token {user.api_key}:{secret}"


class TestSecurity(BridgeTestCase, FrappeAPITestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_target_doctypes()
		cls.dispatcher = api_user(
			"ld-dispatcher@example.com", ["Desk User"] if frappe.db.exists("Role", "Desk User") else []
		)
		cls.manager = api_user("ld-manager@example.com", ["System Manager"])
		frappe.db.commit()

	def setUp(self):
		clean_site()
		self.legacy = fresh_legacy()
		self.legacy.ticket(subject="Panne")

	def tearDown(self):
		self.legacy.admin.close()

	def call(self, verb, method, auth, **params):
		return getattr(self, verb)(self.method(method), params, headers={"Authorization": auth})

	def test_an_ordinary_user_gets_403_everywhere(self):
		for verb, method in METHODS:
			with self.subTest(method=method):
				response = self.call(verb, method, self.dispatcher)
				self.assertEqual(response.status_code, 403, response.text)
		password = self.call(
			"get", "frappe.client.get_password", self.dispatcher, doctype="Legacy Dispatch Settings",
			name="Legacy Dispatch Settings", fieldname="password",
		)  # fmt: skip
		self.assertEqual(password.status_code, 403, password.text)
		settings = self.get(
			self.resource("Legacy Dispatch Settings", "Legacy Dispatch Settings"),
			headers={"Authorization": self.dispatcher},
		)
		self.assertEqual(settings.status_code, 403)
		frappe.db.rollback()
		self.assertEqual(len(own_jobs()), 0)
		self.assertEqual(frappe.db.count("Sync Log", {"name": ("not in", self.site_logs or [""])}), 0)

	def test_a_system_manager_may_preview_and_run(self):
		preview = self.call("get", "legacy_dispatch.api.preview", self.manager)
		self.assertEqual(preview.status_code, 200, preview.text)
		self.assertEqual(preview.json["message"]["created"], 1)
		run = self.call("post", "legacy_dispatch.api.run", self.manager)
		self.assertEqual(run.status_code, 200, run.text)
		self.assertEqual(run.json["message"]["created"], 1)
		wrong_verb = self.call("post", "legacy_dispatch.api.preview", self.manager)
		self.assertEqual(wrong_verb.status_code, 403)  # preview is GET only

	def test_the_password_never_leaves_the_site(self):
		settings = frappe.get_single("Legacy Dispatch Settings")
		settings.password = SECRET
		settings.save()
		frappe.db.commit()
		self.assertEqual(sync.load_settings()[0].password, SECRET)  # stored, encrypted
		self.assertNotIn(SECRET, frappe.as_json(frappe.get_single("Legacy Dispatch Settings").as_dict()))

		responses = [
			self.get(
				self.resource("Legacy Dispatch Settings", "Legacy Dispatch Settings"),
				headers={"Authorization": self.manager},
			),
			self.call("get", "legacy_dispatch.api.preview", self.manager),  # fails: wrong password
			self.call("post", "legacy_dispatch.api.run", self.manager),
		]
		self.assertEqual([r.status_code for r in responses], [200, 417, 200])
		self.assertIn("access denied (wrong user or password)", responses[1].text)
		for r in responses:
			self.assertNotIn(SECRET, r.text)
		frappe.db.rollback()  # see what the requests committed
		logs = frappe.get_all("Sync Log", fields=["*"])
		self.assertEqual([log.status for log in logs], ["Failed"])
		self.assertNotIn(SECRET, frappe.as_json(logs))
		error_logs = frappe.get_all("Error Log", fields=["error"], order_by="creation desc", limit=20)
		self.assertNotIn(SECRET, frappe.as_json(error_logs))
