# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

from frappe.model.document import Document


class LegacyIgnoredTicket(Document):
	"""A deleted bridge job's ticket, not imported again while this record exists."""
