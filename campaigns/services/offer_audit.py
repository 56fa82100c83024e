"""Edits of offers, challenges and line-item rules in the merchant's activity log (F-P4): who, when, and
what changed, each field as "old → new" in words a person reads (money with its currency, times in
``settings.TIME_ZONE``). Written through ``merchants.services.audit_record`` inside the edit's own
transaction, so an edit that rolls back leaves no entry and a saved one always has its entry.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models

from campaigns.models import Challenge, LineItemRule, Offer
from merchants.services import AuditAction, audit_record
from wallet.money import minor_to_decimal_string

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "AuditAction",
    "audit_challenge",
    "audit_line_rule",
    "audit_offer",
    "challenge_snapshot",
    "offer_snapshot",
]

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OFFER_MONEY_FIELDS = frozenset(
    {"fixed_amount_minor", "min_spend_minor", "max_reward_per_purchase_minor", "budget_total_minor"}
)
OFFER_LABELS = {
    "title": "Title",
    "description": "Description",
    "reward_type": "Reward type",
    "percent": "Percent",
    "fixed_amount_minor": "Fixed amount",
    "charity_ref": "Charity",
    "currency": "Currency",
    "starts_at": "Starts",
    "ends_at": "Ends",
    "min_spend_minor": "Minimum spend",
    "max_reward_per_purchase_minor": "Most per purchase",
    "max_rewards_per_customer": "Most rewards per customer",
    "budget_total_minor": "Budget",
    "days_of_week": "Days",
    "hour_from": "From hour",
    "hour_to": "To hour",
    "audience": "Audience",
    "min_tier": "Lowest tier",
    "segment": "Segment",
    "return_period_days": "Return period",
    "stackable": "Stacks with other offers",
    "basis": "Basis",
    "auto_payout": "Pays out automatically at month end",
    "locations": "Shops",
}
DESCRIPTION_SHOWN = 80


def _money(minor: int | None, currency: str, *, empty: str = "none") -> str:
    return empty if minor is None else f"{minor_to_decimal_string(minor, currency)} {currency}"


def _when(value: datetime | None) -> str:
    if value is None:
        return "none"
    return value.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%-d %b %Y %H:%M")


def _choice(model: type[models.Model], name: str, value: Any) -> str:
    choices = dict(model._meta.get_field(name).flatchoices)  # type: ignore[union-attr]  # a concrete field
    return str(choices.get(value, value))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_SHOWN else text[: DESCRIPTION_SHOWN - 1] + "…"


def offer_snapshot(offer: Offer) -> dict[str, str]:
    """Every editable field of ``offer`` as the words the activity log shows."""
    currency = offer.currency
    values: dict[str, str] = {}
    for name in OFFER_LABELS:
        if name == "locations":
            names = sorted(location.name for location in offer.locations.all()) if offer.pk else []
            values[name] = ", ".join(names) or "all shops"
            continue
        value = getattr(offer, name if name != "min_tier" else "min_tier_id")
        if name in OFFER_MONEY_FIELDS:
            values[name] = _money(value, currency, empty="unlimited" if name == "budget_total_minor" else "none")
        elif name == "percent":
            values[name] = f"{Decimal(value):.2f} %"
        elif name in ("starts_at", "ends_at"):
            values[name] = _when(value)
        elif name == "days_of_week":
            values[name] = ", ".join(WEEKDAY_NAMES[day] for day in sorted(value or [])) or "every day"
        elif name in ("hour_from", "hour_to"):
            values[name] = "any" if value is None else f"{value:02d}:00"
        elif name == "min_tier":
            values[name] = offer.min_tier.name if offer.min_tier is not None else "none"
        elif name in ("reward_type", "audience", "basis", "currency"):
            values[name] = _choice(Offer, name, value)
        elif name == "segment":
            values[name] = json.dumps(value or {}, sort_keys=True, ensure_ascii=False) if value else "none"
        elif name in ("stackable", "auto_payout"):
            values[name] = "yes" if value else "no"
        elif name == "return_period_days":
            values[name] = f"{value} days"
        elif name == "description":
            values[name] = _short(value or "") or "none"
        else:
            values[name] = "none" if value in (None, "") else str(value)
    return values


def challenge_snapshot(challenge: Challenge) -> dict[str, str]:
    currency = challenge.offer.currency
    revenue = challenge.target_type == "revenue"
    return {
        "Offer": challenge.offer.title,
        "Title": challenge.title,
        "Target": _choice(Challenge, "target_type", challenge.target_type),
        "Target value": _money(challenge.target_value, currency) if revenue else str(challenge.target_value),
        "Bonus": _money(challenge.bonus_minor, currency),
    }


def line_rule_summary(rule: LineItemRule, currency: str) -> str:
    what = f"{Decimal(rule.percent):.2f} %" if rule.kind == "percent" else _money(rule.fixed_minor, currency)
    return f"{rule.scope} “{rule.key}”: {what}"


def diff(before: dict[str, str], after: dict[str, str], labels: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The fields whose words differ, as ``{"field", "from", "to"}`` (in the order of ``after``)."""
    return [
        {"field": (labels or {}).get(name, name), "from": before.get(name, "none"), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    ]


def audit_offer(
    *,
    offer: Offer,
    actor: User | None,
    action: str,
    changes: list[dict[str, str]] | None = None,
    note: str = "",
) -> None:
    details: dict[str, Any] = {"name": offer.title}
    if changes:
        details["diff"] = changes
    if note:
        details["note"] = note
    audit_record(merchant=offer.merchant, actor=actor, action=action, details=details)


def audit_challenge(
    *, challenge_title: str, offer: Offer, actor: User | None, action: str, changes: list[dict[str, str]] | None = None
) -> None:
    details: dict[str, Any] = {"name": challenge_title, "offer": offer.title}
    if changes:
        details["diff"] = changes
    audit_record(merchant=offer.merchant, actor=actor, action=action, details=details)


def audit_line_rule(*, rule: LineItemRule, offer: Offer, actor: User | None, action: str) -> None:
    details = {"name": line_rule_summary(rule, offer.currency), "offer": offer.title}
    audit_record(merchant=offer.merchant, actor=actor, action=action, details=details)
