"""Demo offers for the embedded setup: tiers, 90 days of purchases and a few offers at the demo merchant
("Fjord Coffee"), in several statuses. Idempotent: looks up before it creates; offers go through the
services (and so have their status history) like real ones.

Called by ``seed_demo`` after the demo merchants exist (``cashback.demo.seed_demo_data``).
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from campaigns import services
from campaigns.models import Challenge, Offer, Purchase, Tier

DEMO_MERCHANT_ORG_NUMBER = "923609016"
DEMO_TIERS = [
    {"rank": 1, "name": "Silver", "threshold_minor": 500_000, "multiplier": Decimal("1.25")},
    {"rank": 2, "name": "Gold", "threshold_minor": 2_000_000, "multiplier": Decimal("1.50")},
]


def seed_demo_campaigns() -> list[str]:
    from merchants.models import Merchant

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
            "ends_at": now + timedelta(days=60),
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
            Challenge.objects.create(
                offer=offer,
                title="Ten coffees this season",
                target_type="purchase_count",
                target_value=10,
                bonus_minor=5_000,
            )
        report.append(f"created offer {title!r} ({status})")
    return report
