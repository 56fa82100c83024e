"""Card-network (Visa) events from the webhook inbox become purchase events.

Registered with ``cashback.inbox`` in ``CampaignsConfig.ready()`` for the four transaction types of
the contract in ARCHITECTURE.md ("Card-network webhook"). The handler maps the card token to the
consumer (``accounts.selectors.active_card_by_token``) and the network merchant/store ids to the
shop (``merchants.selectors.location_by_network_ids``), then calls
``campaigns.services.purchase_event_apply`` — idempotent per event id, so the inbox may run it again.
An unknown card or shop, or a refund that matches no purchase, raises ``Unmatched``: the inbox parks
the event and processes it again when a card is linked or a shop's network ids are registered.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from accounts.models import Card
from accounts.selectors import active_card_by_token, active_cards_by_tokens
from campaigns.errors import RefundUnmatchedError
from campaigns.merchant_cache import merchant_inputs_check
from campaigns.models import Purchase
from campaigns.services import purchase_event_apply, reward_batch
from cashback import batch_work
from cashback.amounts import money_from_outside
from cashback.inbox import Ignored, Unmatched, register
from cashback.webhook_contract import VISA_POSITIVE_AMOUNT_TYPES
from merchants.models import Location
from merchants.selectors import location_by_network_ids, locations_by_network_ids

VISA_TYPES = {
    "transaction.auth": "auth",
    "transaction.clearing": "clearing",
    "transaction.refund": "refund",
    "transaction.reversal": "reversal",
}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _occurred_at(data: dict[str, Any], payload: dict[str, Any]) -> datetime:
    for raw in (data.get("datetime"), payload.get("created")):
        parsed = parse_datetime(raw) if isinstance(raw, str) else None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise ValueError("The event has no time with a time zone (data.datetime).")


def _names(data: dict[str, Any]) -> tuple[str, str, str]:
    """The card token, network merchant id and network store id an event's data names."""
    return (
        _text((data.get("card") or {}).get("token")),
        _text((data.get("merchant") or {}).get("id")),
        _text((data.get("location") or {}).get("id")),
    )


class VisaBatch:
    """What a batch of inbox events' Visa events read, looked up once for the batch (issue 19;
    ``cashback.batch_work``, registered in ``CampaignsConfig.ready()``): the cards with their
    consumers and the shops with their merchants (a query each), the merchants' cached inputs
    checked (one cache read, ``merchant_cache.merchant_inputs_check``), then, through the batch's
    rewards (``reward_batch.RewardBatch.prefetch``), which purchase events are stored already, the
    consumers' tiers and blocks and the merchants' funding balances. ``visa_event_handle`` reads from
    here and asks the database for anything missing (an unknown card, say), as it does outside a
    batch."""

    def __init__(self) -> None:
        self.cards: dict[str, Card] = {}
        self.locations: dict[tuple[str, str], Location] = {}

    def prepare(self, events: Sequence[Any]) -> None:
        named = []
        for event in events:
            payload = event.payload if event.source == "visa" and isinstance(event.payload, dict) else None
            if payload is not None and isinstance(payload.get("data"), dict):
                named.append((event.event_id, _names(payload["data"])))
        if not named:
            return
        self.cards = active_cards_by_tokens(names[0] for _, names in named)
        self.locations = locations_by_network_ids(names[1:] for _, names in named)
        merchant_inputs_check(location.merchant_id for location in self.locations.values())
        rewards = reward_batch.current()
        if rewards is not None:
            users = {card.user.pk: card.user for card in self.cards.values()}
            merchants = {location.merchant_id: location.merchant for location in self.locations.values()}
            rewards.prefetch(
                source=Purchase.Source.CARD,
                event_ids=[event_id for event_id, _ in named],
                users=users.values(),
                merchants=merchants.values(),
            )

    def mark(self) -> None:
        return None

    def rollback(self, mark: object) -> None:
        """Nothing to undo: the look-ups stay true for the batch's other events."""

    def flush(self) -> None:
        """Nothing deferred."""


def visa_event_handle(event: Any) -> None:
    """Process one stored Visa event (``cashback.models.WebhookEvent``)."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    kind = VISA_TYPES.get(payload.get("type") or event.event_type)
    if kind is None:
        raise Ignored(f"Not a transaction event: {payload.get('type')!r}.")
    data = payload.get("data") or {}
    txn = _text(data.get("id"))
    currency = _text(data.get("currency"))
    if not txn:
        raise ValueError("The event has no transaction id (data.id).")
    # The door's parser (cashback/webhook_contract.py): an event it accepted parses the same here.
    amount_minor = money_from_outside(
        data.get("amount"), currency=currency, positive=payload.get("type") in VISA_POSITIVE_AMOUNT_TYPES
    )

    token, network_merchant_id, network_store_id = _names(data)
    looked_up = batch_work.current(VisaBatch)
    card = looked_up.cards.get(token) if looked_up is not None else None
    if card is None:
        card = active_card_by_token(token)
    if card is None:
        raise Unmatched(f"Unknown card token {token[:12]}….")
    pair = (network_merchant_id, network_store_id)
    location = looked_up.locations.get(pair) if looked_up is not None else None
    if location is None:
        location = location_by_network_ids(network_merchant_id=network_merchant_id, network_store_id=network_store_id)
    if location is None:
        raise Unmatched(f"Unknown shop: merchant {network_merchant_id!r}, store {network_store_id!r}.")

    try:
        purchase_event_apply(
            source="visa",
            event_id=event.event_id,
            kind=kind,
            external_id=txn,
            amount_minor=amount_minor,
            currency=currency,
            occurred_at=_occurred_at(data, payload),
            user=card.user,
            card=card,
            merchant=location.merchant,
            location=location,
            original_external_id=_text(data.get("originalTransactionId")) if kind in ("refund", "reversal") else "",
        )
    except RefundUnmatchedError as exc:
        raise Unmatched(f"{exc.message} (refund {txn}, no original transaction id).") from exc


def register_handlers() -> None:
    for event_type in VISA_TYPES:
        register(source="visa", event_type=event_type, handler=visa_event_handle)
    batch_work.register(VisaBatch)
