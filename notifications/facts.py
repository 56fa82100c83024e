"""The facts (cashback.events) that become notifications: one subscriber per fact, each creating at
most one notification per fact (its dedupe key is derived from the fact, held by the database's
unique constraint), so a delivery that runs twice tells the person once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse
from django.utils import formats

from accounts.models import User
from cashback import events
from notifications.kinds import money_text, stage_text
from notifications.services import notification_send


def _active(user_id: int) -> User | None:
    """The person, unless their account was closed or erased: they are told nothing more."""
    return User.objects.filter(pk=user_id, is_active=True, erased_at__isnull=True).first()


def _send(*, user_id: int, kind: str, key: str, context: dict[str, Any]) -> None:
    user = _active(user_id)
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


def on_payout_settled(
    *, user_id: int, payout_id: int, outcome: str, amount_minor: int, currency: str, reason: str = "", **_: Any
) -> None:
    context = {**_money(amount_minor, currency), "reason": reason}
    # The key the wallet used when it told the person directly: no message twice across the change.
    _send(user_id=user_id, kind=f"payout_{outcome}", key=f"payout:{payout_id}:{outcome}", context=context)


def on_statement_published(
    *,
    user_id: int,
    period: str,
    period_label: str,
    currency: str,
    opening_minor: int,
    closing_minor: int,
    **_: Any,
) -> None:
    context = {
        "period": f"{period_label} ({currency})",
        "opening": money_text(opening_minor, currency),
        "closing": money_text(closing_minor, currency),
    }
    user = _active(user_id)
    if user is None:
        return
    # A URL by name: notifications does not import the wallet.
    url = f"{reverse('wallet:statement_download')}?month={period}&currency={currency}&format=pdf"
    notification_send(
        user=user, kind="statement_ready", dedupe_key=f"statement:{period}:{currency}", context=context, url=url
    )


def on_cashback_expiring(
    *, user_id: int, entry_id: int, amount_minor: int, currency: str, expires_on: str, **_: Any
) -> None:
    context = {**_money(amount_minor, currency), "expires_on": formats.date_format(date.fromisoformat(expires_on))}
    _send(user_id=user_id, kind="reward_expiry_warning", key=f"reward-expiry-warning:{entry_id}", context=context)


def on_referral_bonus_paid(*, user_id: int, key: str, amount_minor: int, currency: str, memo: str, **_: Any) -> None:
    # ``key`` is the bonus's ledger key, unique per bonus: the same key the referrals app used before.
    _send(user_id=user_id, kind="referral_bonus", key=key, context={**_money(amount_minor, currency), "memo": memo})


def subscribe_all() -> None:
    events.subscribe("reward_earned", on_reward_earned)
    events.subscribe("reward_available", on_reward_available)
    events.subscribe("reward_reversed", on_reward_reversed)
    events.subscribe("cashback_spent", on_cashback_spent)
    events.subscribe("donation_made", on_donation_made)
    events.subscribe("challenge_progress", on_challenge_progress)
    events.subscribe("tier_changed", on_tier_changed)
    events.subscribe("payout_settled", on_payout_settled)
    events.subscribe("statement_published", on_statement_published)
    events.subscribe("cashback_expiring", on_cashback_expiring)
    events.subscribe("referral_bonus_paid", on_referral_bonus_paid)
