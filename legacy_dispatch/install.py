import frappe
from frappe import _

TARGET_DOCTYPES = ("Dispatch Job", "Customer", "Service Location")


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
