"""The facts (cashback.events) that become notifications: one subscriber per fact, each creating at
most one notification per fact (its dedupe key is derived from the fact, held by the database's
unique constraint), so a delivery that runs twice tells the person once.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from cashback import events
from notifications.kinds import money_text, stage_text
from notifications.services import notification_send


def _send(*, user_id: int, kind: str, key: str, context: dict[str, Any]) -> None:
    user = User.objects.filter(pk=user_id, is_active=True, erased_at__isnull=True).first()
    if user is None:
        return
    notification_send(user=user, kind=kind, dedupe_key=key, context=context)


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount": money_text(amount_minor, currency), "amount_minor": amount_minor, "currency": currency}


def on_reward_earned(*, user_id: int, amount_minor: int, currency: str, fact_id: int, **_: Any) -> None:
    _send(user_id=user_id, kind="reward_earned", key=f"fact:{fact_id}", context=_money(amount_minor, currency))


def on_reward_available(*, user_id: int, amount_minor: int, currency: str, fact_id: int, **_: Any) -> None:
    _send(user_id=user_id, kind="reward_available", key=f"fact:{fact_id}", context=_money(amount_minor, currency))


def on_reward_reversed(*, user_id: int, amount_minor: int, currency: str, fact_id: int, **_: Any) -> None:
    _send(user_id=user_id, kind="reward_reversed", key=f"fact:{fact_id}", context=_money(amount_minor, currency))


def on_cashback_spent(
    *, user_id: int, journal_id: int, amount_minor: int, currency: str, merchant_name: str, **_: Any
) -> None:
    context = {**_money(amount_minor, currency), "merchant": merchant_name}
    _send(user_id=user_id, kind="cashback_spent", key=f"cashback_spent:journal:{journal_id}", context=context)


def on_donation_made(
    *, user_id: int, journal_id: int, amount_minor: int, currency: str, charity_name: str, **_: Any
) -> None:
    context = {**_money(amount_minor, currency), "charity": charity_name}
    _send(user_id=user_id, kind="donation_receipt", key=f"donation:journal:{journal_id}", context=context)


def on_challenge_progress(
    *, user_id: int, challenge_id: int, challenge_title: str, stage: str, percent: int, **_: Any
) -> None:
    context = {"challenge": challenge_title, "stage": stage_text(stage), "percent": percent}
    _send(user_id=user_id, kind="challenge_progress", key=f"challenge:{challenge_id}:{stage}", context=context)


def on_tier_changed(*, user_id: int, tier_name: str, previous_name: str, fact_id: int, **_: Any) -> None:
    context = {"tier": tier_name, "previous": previous_name or "-"}
    _send(user_id=user_id, kind="tier_changed", key=f"fact:{fact_id}", context=context)


def subscribe_all() -> None:
    events.subscribe("reward_earned", on_reward_earned)
    events.subscribe("reward_available", on_reward_available)
    events.subscribe("reward_reversed", on_reward_reversed)
    events.subscribe("cashback_spent", on_cashback_spent)
    events.subscribe("donation_made", on_donation_made)
    events.subscribe("challenge_progress", on_challenge_progress)
    events.subscribe("tier_changed", on_tier_changed)
