from legacy_dispatch.core.matching import Candidate, likely_customer

CANDIDATES = [
	Candidate("Tremblay, Marie", frozenset({"saint jerome"})),
	Candidate("Marie Tremblay-Roy", frozenset({"laval"})),
	Candidate("Gagnon Luc", frozenset()),
	Candidate("Fromagerie Côté inc.", frozenset({"mirabel"})),
]


def test_same_words_in_another_order_and_case():
	assert likely_customer("MARIE TREMBLAY", "Laval", CANDIDATES[:1]) == ("Tremblay, Marie", 1.0)


def test_city_breaks_the_tie():
	assert likely_customer("Marie Tremblay", "St Jerome", CANDIDATES)[0] == "Tremblay, Marie"
	assert likely_customer("Marie Tremblay Roy", "Laval", CANDIDATES)[0] == "Marie Tremblay-Roy"


def test_accents_and_company_names():
	assert likely_customer("Fromagerie Cote Inc", None, CANDIDATES) == ("Fromagerie Côté inc.", 1.0)


def test_no_suggestion_below_half_the_words():
	assert likely_customer("Luc Bergeron", "Laval", CANDIDATES) is None
	assert likely_customer("", "Laval", CANDIDATES) is None
	assert likely_customer("Marie", None, CANDIDATES) is None  # 1 word of 2 is not enough


def test_the_customer_name_is_compared_and_the_document_name_returned():
	candidates = [Candidate("CUST-00042", frozenset(), "Gagnon, Luc")]
	assert likely_customer("Luc Gagnon", None, candidates) == ("CUST-00042", 1.0)
