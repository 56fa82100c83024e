"""Demo flags for seed_demo: the demo consumer's card used seven times within the hour at a demo
shop (a velocity flag), two equal purchases three minutes apart (a near-duplicate), and the
near-duplicate held by the demo administrator, so /staff/monitoring/ has something to look at.

The purchases go through ``purchase_event_apply`` like any card purchase and the flags are raised
by the rules themselves. Idempotent: the purchases are keyed, the flags unique per rule and window,
and the hold is put on only while the flag is open.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.demo import DEMO_CONSUMER_EMAIL
from campaigns.demo import DEMO_MERCHANT_ORG_NUMBER
from campaigns.services import purchase_event_apply
from merchants.models import Merchant
from monitoring import services
from monitoring.models import FlagRule, FlagStatus, FraudFlag

DEMO_BURST = (12_900, 8_500, 23_000, 4_900, 15_500, 9_900, 9_900)  # the last two: a near-duplicate


def _demo_shop() -> Merchant | None:
    """A demo shop with a live offer and no challenge (so the burst leaves the demo consumer's
    challenge progress alone); the demo merchant when there is none."""
    return (
        Merchant.objects.filter(offers__status="live")
        .exclude(offers__challenges__isnull=False)
        .exclude(organisation_number=DEMO_MERCHANT_ORG_NUMBER)
        .order_by("id")
        .first()
    ) or Merchant.objects.filter(organisation_number=DEMO_MERCHANT_ORG_NUMBER).first()


def seed_demo_flags() -> list[str]:
    User = get_user_model()
    consumer = User.objects.filter(email=DEMO_CONSUMER_EMAIL).first()
    merchant = _demo_shop()
    card = consumer.cards.filter(status="active").order_by("id").first() if consumer else None
    if consumer is None or merchant is None or card is None:
        return ["no demo consumer, card or merchant: skipped demo flags"]
    if not FraudFlag.objects.filter(user=consumer).exists():
        # From the top of an hour, so the burst falls in one velocity window (one flag, not two).
        # Before the demo consumer's own newest purchases (6 hours ago), which the wallet shows first.
        start = (timezone.now() - timedelta(hours=8)).replace(minute=0, second=0, microsecond=0)
        for n, amount in enumerate(DEMO_BURST):
            purchase = purchase_event_apply(
                source="card",  # what the network would send: card purchases carry their card
                event_id=f"demo-burst-{consumer.pk}-{n}",
                kind="clearing",
                external_id=f"demo-burst-{consumer.pk}-{n}",
                amount_minor=amount,
                currency=merchant.currency,
                occurred_at=start + timedelta(minutes=6 * n if n < 6 else 6 * 5 + 3),
                user=consumer,
                card=card,
                merchant=merchant,
                location=merchant.locations.order_by("id").first(),
            )
            services.purchase_check(purchase_id=purchase.pk)
    report = [f"{FraudFlag.objects.filter(user=consumer).count()} demo flag(s) on {DEMO_CONSUMER_EMAIL}"]
    admin = User.objects.filter(is_superuser=True, email__endswith="@demo.cashback.example").order_by("id").first()
    duplicate = FraudFlag.objects.filter(user=consumer, rule=FlagRule.NEAR_DUPLICATE, status=FlagStatus.OPEN).first()
    if admin is not None and duplicate is not None:
        held = services.flag_hold(flag=duplicate, actor=admin, reason="Demo: two equal purchases minutes apart.")
        report.append(f"held the near-duplicate flag ({held} reward(s))")
    return report
