"""One small in-process event function: how a domain app tells later apps that something happened.

ARCHITECTURE.md keeps app dependencies acyclic (campaigns may not import referrals, say), yet
referrals must learn that a reward became available. The earlier app ``announce``s a fact; later
apps ``subscribe`` to it in their ``AppConfig.ready()``. Subscribers run synchronously, in
the announcer's database transaction, in subscription order: a subscriber's failure rolls the
announcer's work back, so a fact is never half-handled. Subscribers must be idempotent — the
announcer may run twice (a replayed task). Not Django signals: the list of facts is written down
here, and an unknown name is an error rather than silence.

Facts (keyword arguments are ids and plain values, never model instances):

- ``card_linked``          user_id, card_id
- ``user_signed_up``       user_id, referral_code, ip, device_id   (code typed or remembered from a link; may be "")
- ``merchant_applied``     merchant_id, referral_code   (the code of a /partners/?ref= link; may be "")
- ``location_registered``  location_id, merchant_id   (network ids set or changed)
- ``merchant_approved``    merchant_id
- ``offer_live``           offer_id, merchant_id
- ``reward_earned``        reward_id, user_id, purchase_id, amount_minor, currency
- ``reward_available``     reward_id, user_id, purchase_id, amount_minor, currency
- ``reward_reversed``      reward_id, user_id, purchase_id, amount_minor, currency
- ``purchase_refunded``    purchase_id, user_id
"""

from collections.abc import Callable
from typing import Any

FACTS = frozenset(
    {
        "card_linked",
        "user_signed_up",
        "merchant_applied",
        "location_registered",
        "merchant_approved",
        "offer_live",
        "reward_earned",
        "reward_available",
        "reward_reversed",
        "purchase_refunded",
    }
)

_subscribers: dict[str, list[Callable[..., Any]]] = {name: [] for name in FACTS}


def _require_known(fact: str) -> None:
    if fact not in FACTS:
        raise ValueError(f"Unknown fact {fact!r}; add it to cashback.events.FACTS with its arguments.")


def subscribe(fact: str, subscriber: Callable[..., Any]) -> None:
    """Call ``subscriber(**facts)`` whenever ``fact`` is announced. Subscribing twice is a no-op."""
    _require_known(fact)
    if subscriber not in _subscribers[fact]:
        _subscribers[fact].append(subscriber)


def announce(fact: str, **facts: Any) -> None:
    _require_known(fact)
    for subscriber in list(_subscribers[fact]):
        subscriber(**facts)
