"""The fraud rules: each looks at one subject (a purchase, a person, a card, a referrer) and says
what it found, as ``Finding`` values; ``monitoring.services`` turns findings into flags.

Each rule reads its thresholds from ``settings.MONITORING_RULES[<rule>]`` when it runs (never at
import), so staff can tune them per environment; docs/monitoring.md lists each rule, its threshold
and its window. A finding's ``window_key`` names the subject and the window (a card and the hour,
say): the same key is the same flag, which the database refuses to raise twice.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median_low
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from accounts.models import Card
from campaigns.models import Purchase
from monitoring.models import FlagRule
from referrals.models import Referral

MAX_IDS_IN_DETAILS = 20


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    window_key: str
    details: dict[str, Any] = field(default_factory=dict)
    purchase_id: int | None = None
    user_id: int | None = None
    card_id: int | None = None


def rule_config(rule: str) -> dict[str, Any]:
    """The thresholds of ``rule`` as configured now (settings.MONITORING_RULES)."""
    return dict(settings.MONITORING_RULES[rule])


def _bucket(moment: datetime, *, seconds: int) -> int:
    """The number of the fixed window of ``seconds`` that ``moment`` falls in (since the epoch)."""
    return int(moment.timestamp()) // max(seconds, 1)


def _counted(purchases: Any) -> Any:
    """Purchases that happened: not only a refund waiting for its original, not zero."""
    return purchases.exclude(status=Purchase.Status.AWAITING).exclude(amount_minor=0)


# --- Rules on a purchase -------------------------------------------------------------------------


def velocity(purchase: Purchase) -> list[Finding]:
    """More than ``max_purchases`` purchases on one card within ``window_minutes`` up to this one."""
    if purchase.card_id is None:
        return []
    config = rule_config(FlagRule.VELOCITY)
    window = timedelta(minutes=config["window_minutes"])
    ids = list(
        _counted(Purchase.objects.filter(card_id=purchase.card_id))
        .filter(occurred_at__gt=purchase.occurred_at - window, occurred_at__lte=purchase.occurred_at)
        .order_by("occurred_at", "id")
        .values_list("id", flat=True)
    )
    if len(ids) <= config["max_purchases"]:
        return []
    bucket = _bucket(purchase.occurred_at, seconds=int(window.total_seconds()))
    return [
        Finding(
            rule=FlagRule.VELOCITY,
            severity=config["severity"],
            window_key=f"card:{purchase.card_id}:{bucket}",
            details={
                "purchases": len(ids),
                "max_purchases": config["max_purchases"],
                "window_minutes": config["window_minutes"],
                "purchase_ids": ids[:MAX_IDS_IN_DETAILS],
            },
            purchase_id=purchase.pk,
            user_id=purchase.user_id,
            card_id=purchase.card_id,
        )
    ]


def near_duplicate(purchase: Purchase) -> list[Finding]:
    """Another purchase with the same card (or person, without a card), merchant, currency and
    amount within ``window_minutes``. One flag per cluster, keyed by its earliest purchase."""
    if purchase.amount_minor == 0 or (purchase.card_id is None and purchase.user_id is None):
        return []
    config = rule_config(FlagRule.NEAR_DUPLICATE)
    window = timedelta(minutes=config["window_minutes"])
    same_payer = Q(card_id=purchase.card_id) if purchase.card_id else Q(user_id=purchase.user_id)
    cluster = list(
        _counted(Purchase.objects.filter(same_payer))
        .filter(
            merchant_id=purchase.merchant_id,
            currency=purchase.currency,
            amount_minor=purchase.amount_minor,
            occurred_at__gte=purchase.occurred_at - window,
            occurred_at__lte=purchase.occurred_at + window,
        )
        .order_by("occurred_at", "id")
        .values_list("id", flat=True)[:MAX_IDS_IN_DETAILS]
    )
    if len(cluster) < 2 or purchase.pk not in cluster:
        return []
    return [
        Finding(
            rule=FlagRule.NEAR_DUPLICATE,
            severity=config["severity"],
            window_key=f"purchase:{cluster[0]}",
            details={"purchase_ids": cluster, "window_minutes": config["window_minutes"]},
            purchase_id=purchase.pk,
            user_id=purchase.user_id,
            card_id=purchase.card_id,
        )
    ]


def unusual_amount(purchase: Purchase) -> list[Finding]:
    """An amount more than ``multiple_of_median`` times the median of the merchant's purchases in
    that currency over ``history_days`` (looked at once it has ``min_history`` of them)."""
    if purchase.amount_minor == 0:
        return []
    config = rule_config(FlagRule.UNUSUAL_AMOUNT)
    since = purchase.occurred_at - timedelta(days=config["history_days"])
    amounts = list(
        _counted(Purchase.objects.filter(merchant_id=purchase.merchant_id, currency=purchase.currency))
        .filter(occurred_at__gte=since, occurred_at__lte=purchase.occurred_at)
        .exclude(pk=purchase.pk)
        .order_by("-occurred_at", "-id")
        .values_list("amount_minor", flat=True)[: config.get("max_history", 1000)]
    )
    if len(amounts) < config["min_history"]:
        return []
    middle = median_low(amounts)
    multiple = Decimal(str(config["multiple_of_median"]))
    if middle <= 0 or purchase.amount_minor <= multiple * middle:
        return []
    return [
        Finding(
            rule=FlagRule.UNUSUAL_AMOUNT,
            severity=config["severity"],
            window_key=f"purchase:{purchase.pk}",
            details={
                "amount_minor": purchase.amount_minor,
                "median_minor": middle,
                "multiple_of_median": str(multiple),
                "history": len(amounts),
                "currency": purchase.currency,
            },
            purchase_id=purchase.pk,
            user_id=purchase.user_id,
            card_id=purchase.card_id,
        )
    ]


def refund_cycling(purchase: Purchase) -> list[Finding]:
    """At least ``min_cycles`` purchases by one person within ``window_days`` that earned cashback
    and were then refunded or reversed (earn, refund, repeat)."""
    if purchase.user_id is None or not (purchase.refunded_minor > 0 or purchase.reversed):
        return []
    config = rule_config(FlagRule.REFUND_CYCLING)
    window = timedelta(days=config["window_days"])
    refunded_at = purchase.updated_at  # when the refund was applied: the window ends there
    ids = list(
        Purchase.objects.filter(
            Q(refunded_minor__gt=0) | Q(reversed=True),
            user_id=purchase.user_id,
            rewards__isnull=False,
            occurred_at__gt=refunded_at - window,
            occurred_at__lte=refunded_at,
        )
        .distinct()
        .order_by("occurred_at", "id")
        .values_list("id", flat=True)
    )
    if len(ids) < config["min_cycles"]:
        return []
    bucket = _bucket(refunded_at, seconds=int(window.total_seconds()))
    return [
        Finding(
            rule=FlagRule.REFUND_CYCLING,
            severity=config["severity"],
            window_key=f"user:{purchase.user_id}:{bucket}",
            details={
                "refunded_purchases": len(ids),
                "min_cycles": config["min_cycles"],
                "window_days": config["window_days"],
                "purchase_ids": ids[:MAX_IDS_IN_DETAILS],
            },
            purchase_id=purchase.pk,
            user_id=purchase.user_id,
        )
    ]


PURCHASE_RULES = (velocity, near_duplicate, unusual_amount, refund_cycling)


def purchase_findings(purchase: Purchase) -> list[Finding]:
    return [finding for rule in PURCHASE_RULES for finding in rule(purchase)]


# --- Rules on cards ------------------------------------------------------------------------------


def many_cards(*, user_id: int, now: datetime) -> list[Finding]:
    """More than ``max_cards`` cards linked (removed ones count) by one person within ``window_days``."""
    config = rule_config(FlagRule.MANY_CARDS)
    window = timedelta(days=config["window_days"])
    ids = list(
        Card.objects.filter(user_id=user_id, created_at__gt=now - window, created_at__lte=now)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    if len(ids) <= config["max_cards"]:
        return []
    bucket = _bucket(now, seconds=int(window.total_seconds()))
    return [
        Finding(
            rule=FlagRule.MANY_CARDS,
            severity=config["severity"],
            window_key=f"user:{user_id}:{bucket}",
            details={"cards": len(ids), "max_cards": config["max_cards"], "window_days": config["window_days"]},
            user_id=user_id,
        )
    ]


def shared_card(*, card: Card) -> list[Finding]:
    """The same card (first six, last four and expiry; the network gives each enrolment its own
    token) linked to at least ``min_accounts`` different people. One flag per card, keyed by the
    first of its rows."""
    config = rule_config(FlagRule.SHARED_CARD)
    same = Card.objects.filter(
        first_six=card.first_six, last_four=card.last_four, exp_month=card.exp_month, exp_year=card.exp_year
    )
    rows = list(same.order_by("id").values_list("id", "user_id"))
    users = sorted({user_id for _, user_id in rows})
    if len(users) < config["min_accounts"]:
        return []
    return [
        Finding(
            rule=FlagRule.SHARED_CARD,
            severity=config["severity"],
            window_key=f"card:{rows[0][0]}",
            details={"accounts": len(users), "min_accounts": config["min_accounts"], "user_ids": users[:20]},
            user_id=card.user_id,
            card_id=rows[0][0],
        )
    ]


def card_findings(*, card: Card, now: datetime) -> list[Finding]:
    return many_cards(user_id=card.user_id, now=now) + shared_card(card=card)


# --- Rules on referrals --------------------------------------------------------------------------


def referral_farming(*, referrer_id: int, now: datetime) -> list[Finding]:
    """At least ``min_referrals`` friends referred by one person within ``window_hours``, of whom at
    least ``min_shared`` share a device, a network or a card (first six, last four, expiry)."""
    config = rule_config(FlagRule.REFERRAL_FARMING)
    window = timedelta(hours=config["window_hours"])
    referrals = list(
        Referral.objects.filter(referrer_id=referrer_id, created_at__gt=now - window, created_at__lte=now)
        .order_by("created_at", "id")
        .values("id", "friend_id", "device_id", "network")
    )
    if len(referrals) < config["min_referrals"]:
        return []

    def largest_group(values: list[str]) -> int:
        counts: dict[str, int] = {}
        for value in values:
            if value:
                counts[value] = counts.get(value, 0) + 1
        return max(counts.values(), default=0)

    friend_ids = [row["friend_id"] for row in referrals]
    shared_cards = (
        Card.objects.filter(user_id__in=friend_ids)
        .values("first_six", "last_four", "exp_month", "exp_year")
        .annotate(people=Count("user_id", distinct=True))
        .order_by("-people")
        .values_list("people", flat=True)
        .first()
    ) or 0
    shared = {
        "device": largest_group([row["device_id"] for row in referrals]),
        "network": largest_group([row["network"] for row in referrals]),
        "card": shared_cards,
    }
    if max(shared.values()) < config["min_shared"]:
        return []
    bucket = _bucket(now, seconds=int(window.total_seconds()))
    return [
        Finding(
            rule=FlagRule.REFERRAL_FARMING,
            severity=config["severity"],
            window_key=f"user:{referrer_id}:{bucket}",
            details={
                "referrals": len(referrals),
                "shared_device": shared["device"],
                "shared_network": shared["network"],
                "shared_card": shared["card"],
                "min_referrals": config["min_referrals"],
                "min_shared": config["min_shared"],
                "window_hours": config["window_hours"],
                "referral_ids": [row["id"] for row in referrals][:MAX_IDS_IN_DETAILS],
            },
            user_id=referrer_id,
        )
    ]
