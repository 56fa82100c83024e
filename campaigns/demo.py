"""Demo offers for the embedded setup: tiers, 90 days of purchases and a few offers at the demo merchant
("Fjord Coffee"), in several statuses. Idempotent: looks up before it creates; offers go through the
services (and so have their status history) like real ones.

Called by ``seed_demo`` after the demo merchants exist (``cashback.demo.seed_demo_data``).
"""

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from campaigns import services
from campaigns.demo_year import seed_demo_year
from campaigns.models import Challenge, Offer, Purchase, PurchaseEvent, Tier
from campaigns.purchase_keys import purchase_event_key
from merchants.models import Merchant
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, platform_account, transaction_post, transfer

DEMO_MERCHANT_ORG_NUMBER = "923609016"
DEMO_TIERS: list[dict[str, Any]] = [
    {"rank": 1, "name": "Silver", "threshold_minor": 500_000, "multiplier": Decimal("1.25")},
    {"rank": 2, "name": "Gold", "threshold_minor": 2_000_000, "multiplier": Decimal("1.50")},
]


def seed_demo_campaigns() -> list[str]:
    report = []
    for spec in DEMO_TIERS:
        _, created = Tier.objects.get_or_create(rank=spec["rank"], defaults=spec)
        report.append(f"{'created' if created else 'kept'} tier {spec['name']}")
    merchant = Merchant.objects.filter(organisation_number=DEMO_MERCHANT_ORG_NUMBER).first()
    if merchant is None:
        return [*report, "no demo merchant: skipped demo offers"]
    owner = merchant.memberships.filter(role="owner").select_related("user").first()
    actor = owner.user if owner else None
    now = timezone.now()

    if not Purchase.objects.filter(merchant=merchant, source=Purchase.Source.DEMO).exists():
        rng = random.Random(42)  # the same demo history every time
        locations = list(merchant.locations.all())
        purchases = [
            Purchase(
                source=Purchase.Source.DEMO,
                external_id=f"demo-{merchant.pk}-{n}",
                merchant=merchant,
                location=locations[n % len(locations)] if locations else None,
                amount_minor=(amount := rng.randrange(4_500, 45_000, 50)),
                cleared_minor=amount,
                currency=merchant.currency,
                occurred_at=now - timedelta(days=rng.uniform(0, 89), hours=rng.uniform(0, 10)),
                status=Purchase.Status.CLEARED,
            )
            for n in range(600)
        ]
        Purchase.objects.bulk_create(purchases)
        report.append("created 600 demo purchases at Fjord Coffee")

    specs = [
        ("10 % back on every coffee", "live", {"percent": Decimal("10"), "budget_total_minor": 2_000_000}),
        (
            "5 % of your monthly spend",
            "live",
            {
                "percent": Decimal("5"),
                "basis": "monthly_spend",
                "stackable": True,
                "max_reward_per_purchase_minor": 50_000,
            },
        ),
        (
            "Weekend pastry bonus",
            "in_review",
            {"percent": Decimal("15"), "days_of_week": [5, 6], "min_spend_minor": 10_000, "stackable": True},
        ),
        (
            "50 kr for your first visit",
            "draft",
            {
                "reward_type": "fixed",
                "percent": Decimal(0),
                "fixed_amount_minor": 5_000,
                "audience": "new_customers",
                "max_rewards_per_customer": 1,
            },
        ),
    ]
    for title, status, extra in specs:
        if Offer.objects.filter(merchant=merchant, title=title).exists():
            report.append(f"kept offer {title!r}")
            continue
        values = {
            "title": title,
            "description": "Shown to customers in the app and the web wallet.",
            "reward_type": "percent",
            "currency": merchant.currency,
            "starts_at": now - timedelta(days=2) if status == "live" else now + timedelta(days=3),
            "ends_at": now + timedelta(days=365),
            "max_reward_per_purchase_minor": 10_000,
            "return_period_days": 14,
            **extra,
        }
        offer = services.offer_create(merchant=merchant, actor=actor, values=values)
        if status in ("in_review", "live"):
            services.offer_submit_for_review(offer_id=offer.pk, actor=actor)
        if status == "live":
            reviewer = get_user_model().objects.filter(is_staff=True).first()
            services.offer_approve(offer_id=offer.pk, actor=reviewer, reason="Clear terms.")
        if status == "live" and extra.get("basis") != "monthly_spend":
            Challenge.objects.create(
                offer=offer,
                title="Ten coffees this season",
                target_type="purchase_count",
                target_value=10,
                bonus_minor=5_000,
            )
        report.append(f"created offer {title!r} ({status})")
    report.extend(seed_demo_challenge(merchant))
    report.extend(seed_demo_funding(merchant))
    report.extend(seed_demo_purchases(merchant))
    report.extend(seed_demo_tier_history(merchant))
    report.extend(seed_demo_year(merchant))
    return report


def seed_demo_challenge(merchant) -> list[str]:
    """A revenue challenge on the live coffee offer, so the wallet shows a bar in kroner beside the
    purchase-count one (created before the demo consumer's purchases, which then count for it)."""
    offer = Offer.objects.filter(merchant=merchant, title="10 % back on every coffee").first()
    if offer is None:
        return []
    _, created = Challenge.objects.get_or_create(
        offer=offer,
        title="Spend 1 000 kr this season",
        defaults={"target_type": "revenue", "target_value": 100_000, "bonus_minor": 7_500},
    )
    return [f"{'created' if created else 'kept'} the demo revenue challenge"]


# The demo consumer's earlier year at Fjord Coffee: (days ago, amount). 5 600 kr, before the live offers
# began, so it earns nothing now but counts for the tier: Silver, with Gold as the next tier.
DEMO_TIER_HISTORY: tuple[tuple[int, int], ...] = (
    (300, 90_000),
    (250, 70_000),
    (200, 80_000),
    (150, 60_000),
    (100, 70_000),
    (60, 60_000),
    (30, 50_000),
    (10, 80_000),
)


def seed_demo_tier_history(merchant) -> list[str]:
    user = get_user_model().objects.filter(email="consumer@demo.cashback.example").first()
    if user is None:
        return []
    prefix = f"demo-{merchant.pk}-{user.pk}-history"
    if not Purchase.objects.filter(source=Purchase.Source.DEMO, external_id__startswith=prefix).exists():
        now = timezone.now()
        Purchase.objects.bulk_create(
            Purchase(
                source=Purchase.Source.DEMO,
                external_id=f"{prefix}-{n}",
                user=user,
                merchant=merchant,
                amount_minor=amount,
                cleared_minor=amount,
                currency=merchant.currency,
                occurred_at=now - timedelta(days=days),
                status=Purchase.Status.CLEARED,
            )
            for n, (days, amount) in enumerate(DEMO_TIER_HISTORY)
        )
    row = services.tier_recompute(user=user)
    return [f"the demo consumer's tier: {row.tier or 'none'}"]


DEMO_FUNDING_MINOR = 1_000_000  # 10 000 NOK prepaid by the demo merchant for its rewards


def seed_demo_funding(merchant) -> list[str]:
    """The demo merchant's prepaid funding (one ledger transaction with a fixed key: replays change nothing)."""
    funding = account_get_or_create(
        kind=AccountKind.MERCHANT_FUNDING, currency=merchant.currency, owner_key=merchant.ledger_owner_key
    )
    bank = platform_account(kind=AccountKind.SETTLEMENT, currency=merchant.currency)
    key = f"demo:funding:{merchant.pk}"
    transaction_post(
        idempotency_key=key,
        kind=JournalKind.MERCHANT_FUNDING,
        entries=transfer(debit=bank, credit=funding, amount=DEMO_FUNDING_MINOR),
        memo=f"Demo prepayment by {merchant.display_name}",
        causes={"merchant": merchant.pk},
    )
    return [f"funded {merchant.display_name}'s rewards ({key})"]


# (event id suffix, kind, transaction, amount, original, hours ago)
DEMO_CONSUMER_EVENTS = (
    ("1-auth", "auth", "1", 24_900, "", 30),
    ("1-clearing", "clearing", "1", 24_900, "", 30),
    ("2-auth", "auth", "2", 8_900, "", 6),
    ("3-clearing", "clearing", "3", 45_000, "", 20),
    ("3-refund", "refund", "3-r", 15_000, "3", 2),
)


def seed_demo_purchases(merchant) -> list[str]:
    """A few purchases of the demo consumer through ``purchase_event_apply`` (source "demo"), so the
    wallet shows pending cashback, a partial refund and the reasons at once. Fixed event ids: replays
    change nothing."""
    user = get_user_model().objects.filter(email="consumer@demo.cashback.example").first()
    if user is None:
        return []
    location = merchant.locations.order_by("id").first()
    prefix = f"demo-{merchant.pk}-{user.pk}"
    event_keys = [
        purchase_event_key(source=Purchase.Source.DEMO, event_id=f"{prefix}-{suffix}")
        for suffix, *_ in DEMO_CONSUMER_EVENTS
    ]
    if PurchaseEvent.objects.filter(source=Purchase.Source.DEMO, event_id__in=event_keys).count() >= len(
        DEMO_CONSUMER_EVENTS
    ):
        return ["kept the demo consumer's purchases"]
    offer = Offer.objects.filter(merchant=merchant, title="10 % back on every coffee").first()
    start = offer.starts_at if offer else timezone.now()
    now = timezone.now()
    for suffix, kind, txn, amount, original, hours in DEMO_CONSUMER_EVENTS:
        services.purchase_event_apply(
            source=Purchase.Source.DEMO,
            event_id=f"{prefix}-{suffix}",
            kind=kind,
            external_id=f"{prefix}-{txn}",
            original_external_id=f"{prefix}-{original}" if original else "",
            amount_minor=amount,
            currency=merchant.currency,
            occurred_at=max(start + timedelta(minutes=1), now - timedelta(hours=hours)),
            user=user,
            merchant=merchant,
            location=location,
        )
    return ["created the demo consumer's purchases (pending cashback, one partly refunded)"]
