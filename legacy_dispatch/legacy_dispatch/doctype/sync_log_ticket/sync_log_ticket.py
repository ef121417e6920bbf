# Copyright (c) 2026, legacy_dispatch contributors
# License: MIT. See license.txt

from frappe.model.document import Document


class SyncLogTicket(Document):
	pass
