"""Help match the legacy accounts that no Customer claims (SPEC §6.3): the most likely
existing Customer, by name and city."""

from dataclasses import dataclass

from .mapping import fold


@dataclass(frozen=True)
class Candidate:
	name: str  # Customer name (the document's)
	cities: frozenset[str] = frozenset()  # folded cities of its service locations
	title: str | None = None  # customer_name, when it differs from the name


def words(text: str | None) -> set[str]:
	return {w for w in fold(text).split() if len(w) > 1}


def likely_customer(
	account_name: str, city: str | None, candidates: list[Candidate]
) -> tuple[str, float] | None:
	"""The best Customer for an account, with a score in [0, 1.25]: the share of name words
	they have in common (Jaccard), plus 0.25 when one of its locations is in the account's
	city. None unless more than half of all their words match."""
	wanted, town = words(account_name), fold(city)
	best = None
	for c in candidates:
		have = words(c.title or c.name)
		if not wanted or not have:
			continue
		score = len(wanted & have) / len(wanted | have) + (0.25 if town and town in c.cities else 0)
		if score > 0.5 and (best is None or score > best[1]):
			best = (c.name, round(score, 2))
	return best
