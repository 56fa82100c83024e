"""Whether a consumer qualifies for offers now, and if not why: the rules engine's own conditions, read-only.

The engine decides on a purchase; here there is none yet, so each offer is judged on the purchase
that would qualify most easily — now, at the offer's minimum spend, at the shop the consumer is
looking at — with the consumer's context as the reward pipeline builds it
(``selectors.customer_contexts``). Every condition that fails is a reason (the pipeline stops at the
first one; a person deciding where to shop wants all of them). Nothing is written.

Batched for a page of offers: the consumer's context at all their merchants in three queries, the shops
the offers name in one (unless the caller has them); the offers come in with ``ELIGIBILITY_SELECT``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from campaigns.models import Offer
from campaigns.rules import CONDITIONS, Code, Failure, PurchaseFacts
from campaigns.selectors import customer_contexts, terms_from_values

if TYPE_CHECKING:
    from accounts.models import User

# What judging reads beyond the offer's row and its named shops; load offers with it to judge a page in
# O(1) queries. (Not the line-item rules: they change what a purchase earns, never whether it qualifies.)
ELIGIBILITY_SELECT = ("min_tier",)

# Reasons in the words of someone choosing where to shop (the engine's messages speak of a purchase
# already made). Codes not listed keep the engine's message.
PLAIN_WORDS: dict[Code, str] = {
    Code.OUTSIDE_PERIOD: "The offer is not running right now.",
    Code.NOT_NEW_CUSTOMER: "Only for new customers — you have shopped here before.",
    Code.NOT_RETURNING_CUSTOMER: "Only for returning customers — shop here once first.",
    Code.NOT_IN_SEGMENT: "Only for a group of customers you are not in.",
    Code.BUDGET_SPENT: "The offer's budget has been spent.",
    Code.LOCATION_NOT_INCLUDED: "Not at this shop.",
}
# Reasons that pass with time (come back on another day or hour), as opposed to who the consumer is.
SCHEDULE_CODES = frozenset({Code.OUTSIDE_PERIOD, Code.DAY_NOT_INCLUDED, Code.OUTSIDE_HOURS})


@dataclass(frozen=True)
class Eligibility:
    """``eligible`` when no condition fails; otherwise one reason per failing condition, in the engine's order."""

    eligible: bool
    reasons: tuple[Failure, ...]

    @property
    def codes(self) -> list[str]:
        return [str(reason.code) for reason in self.reasons]


@dataclass(frozen=True)
class Shop:
    """The shop an offer is judged at: its id (offers may be limited to some shops) and time zone."""

    location_id: int | None = None
    time_zone: str = "Europe/Oslo"


def _plain(failure: Failure) -> Failure:
    return Failure(failure.code, PLAIN_WORDS.get(failure.code, failure.message))


def named_locations(*, offer_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The shops each offer names, by offer id; an offer that names none (it applies at every shop of its
    merchant) is absent. One query on the link table, without loading the shops."""
    named: dict[int, set[int]] = {}
    rows = Offer.locations.through.objects.filter(offer_id__in=set(offer_ids)).values_list("offer_id", "location_id")
    for offer_id, location_id in rows:
        named.setdefault(offer_id, set()).add(location_id)
    return {offer_id: frozenset(ids) for offer_id, ids in named.items()}


def offers_eligibility(
    *,
    user: User,
    offers: Iterable[Offer],
    at: datetime,
    shops: Mapping[int, Shop] | None = None,
    named: Mapping[int, frozenset[int]] | None = None,
) -> dict[int, Eligibility]:
    """Each offer's eligibility for ``user`` at ``at``, keyed by offer id.

    ``offers`` are loaded with ``ELIGIBILITY_SELECT``; ``shops`` maps an offer id to the shop it is judged
    at (the nearest one, for a nearby search; without it, one it names, or any); ``named`` is
    ``named_locations`` of the offers when the caller has read it already. Three queries (four without
    ``named``) whatever the number of offers.
    """
    offers = list(offers)
    if named is None:
        named = named_locations(offer_ids=[offer.pk for offer in offers])
    contexts = customer_contexts(user=user, merchant_ids=[offer.merchant_id for offer in offers])
    shops = shops or {}
    result: dict[int, Eligibility] = {}
    for offer in offers:
        terms = terms_from_values(
            offer.__dict__,
            offer_id=offer.pk,
            merchant_id=offer.merchant_id,
            location_ids=named.get(offer.pk, frozenset()),
            min_tier=offer.min_tier,
        )
        shop = shops.get(offer.pk) or Shop(location_id=next(iter(sorted(terms.location_ids)), None))
        facts = PurchaseFacts(
            amount_minor=terms.min_spend_minor,
            currency=terms.currency,
            occurred_at=at,
            merchant_id=terms.merchant_id,
            location_id=shop.location_id,
            tz_name=shop.time_zone,
        )
        customer = contexts[offer.merchant_id]
        failures = [condition.check(facts, terms, customer) for condition in CONDITIONS]
        reasons = tuple(_plain(failure) for failure in failures if failure is not None)
        result[offer.pk] = Eligibility(eligible=not reasons, reasons=reasons)
    return result
