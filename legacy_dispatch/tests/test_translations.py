"""Every label, description, option, button and message of the app has a French translation."""

import json
import re
from pathlib import Path

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.translate import get_all_translations

APP = Path(frappe.get_app_path("legacy_dispatch"))
SAME_IN_FRENCH = {"API", "osTicket", "gestionclient", "Legacy Dispatch", "Message", "Port", "Score", "Action"}
SAME_IN_FRENCH |= {"Installation", "Réparation", "Maintenance", "Retrait", "Dépannage", "Autre"}
SAME_IN_FRENCH |= {
	f"{t} (h)" for t in ("Installation", "Réparation", "Maintenance", "Retrait", "Dépannage", "Autre")
}


def app_strings() -> set[str]:
	strings = set()
	for path in APP.glob("legacy_dispatch/*/*/*.json"):
		doc = json.loads(path.read_text())
		strings.add(doc["name"])
		for df in doc.get("fields", []):
			strings |= {df.get("label"), df.get("description")}
			if df["fieldtype"] == "Select":
				strings |= set(df["options"].split("\n"))
	for df in json.loads((APP / "fixtures" / "custom_field.json").read_text()):
		if not df.get("hidden"):  # the fields the app adds to the site's doctypes, as seen on forms
			strings |= {df.get("label"), df.get("description")}
	for path in APP.rglob("*.py"):
		if "tests" not in path.parts and not path.name.startswith("test_"):
			code = path.read_text()
			strings |= set(re.findall(r'\b_\(\s*"((?:[^"\\]|\\.)*)"', code))
			strings |= set(re.findall(r'\bText\(\s*"((?:[^"\\]|\\.)*)"', code))
	for path in APP.rglob("*.js"):
		if "dist" in path.parts:  # the built bundle
			continue
		strings |= set(re.findall(r'\b__\(\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
	return {s for s in strings if s} - SAME_IN_FRENCH


class TestTranslations(FrappeTestCase):
	def test_everything_has_a_french_translation(self):
		french = get_all_translations("fr")
		strings = app_strings()
		self.assertGreater(len(strings), 150)
		missing = sorted(s for s in strings if not french.get(s) or french[s] == s)
		self.assertEqual(missing, [])

	def test_core_reasons_are_translated_with_their_values(self):
		from legacy_dispatch.core.mapping import Text
		from legacy_dispatch.sync import translated

		frappe.local.lang = "fr"
		try:
			reason = Text(
				"{0}; job kept, {1}",
				Text("ticket {0} in legacy", "closed"),
				Text("assigned to {0}", "TECH-7"),
			)
			self.assertEqual(
				translated(reason),
				"billet closed dans l'ancien système ; intervention conservée, assignée à TECH-7",
			)
		finally:
			frappe.local.lang = "en"
