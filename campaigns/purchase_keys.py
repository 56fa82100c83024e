"""What a purchase's outside ids become where they are kept for good (cashback/keyed_ids.py).

A source's event ids and transaction ids (a card network's transaction id, a Stripe invoice id, a
partner's order and refund ids) are the sender's own text. The append-only ``PurchaseEvent`` rows and
the rewards' ledger keys hold their keyed hashes; ``Purchase.external_id`` (a row that can be changed
and erased) keeps the id as sent, because partners look their orders up by it.
"""

from cashback.keyed_ids import external_key


def purchase_event_key(*, source: str, event_id: str) -> str:
    """The stored id of a source's purchase event (unique per source: a replay finds it)."""
    return external_key(namespace=f"{source}:event", value=event_id)


def purchase_id_key(*, source: str, external_id: str) -> str:
    """The stored stand-in for a source's transaction id (a purchase's, or a refund's own id)."""
    return external_key(namespace=f"{source}:purchase", value=external_id)


def reward_ledger_key(*, source: str, external_id: str, offer_id: int) -> str:
    """The prefix of an offer reward's ledger keys (``:earn``, ``:adjust:<n>``). Rewards created before
    the keyed hash keep the prefix they were stored with (``Reward.ledger_key``)."""
    return f"{source}:{purchase_id_key(source=source, external_id=external_id)}:{offer_id}"
