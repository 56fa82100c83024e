"""A year at Fjord Coffee for the insights charts (issue 15): purchases with a story, in bulk.

The story: a steady café (about 7 purchases a day, busier at weekends) starts "Autumn regulars: 8 %
back" 200 days ago at Aker Brygge, after which visits grow and more of them are by returning
customers; the Grünerløkka shop opens 150 days ago with "5 % to Skolebenken" (a charity reward, so
the offer's page shows its impact); a few purchases are refunded or reversed. 800 demo guests
(no password, no e-mail sent) make the purchases.

Bulk inserts (a few thousand rows, about a second), and ledger transactions with fixed keys book
what the rewards hold (consumers' pending/available, at most 60 consumers a transaction, and the
charity's payable, all from the merchant's receivable), so balances and the ledger agree.
Idempotent: skipped when the year exists. The figures are built by insights' seeder, which runs after this one.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from campaigns.models import Offer, OfferStatus, Purchase, Reward, RewardKind, RewardStatus
from charity.models import Charity
from charity.services import charity_payable_account_open
from wallet.models import AccountKind, JournalKind
from wallet.services import EntrySpec, account_get_or_create, transaction_post

if TYPE_CHECKING:
    from merchants.models import Merchant

YEAR_PREFIX = "demo-year"
GUESTS = 800
OFFER_DAYS_AGO = 200
SECOND_SHOP_DAYS_AGO = 150
RETURN_PERIOD_DAYS = 14


def _offer(merchant: Merchant, title: str, **values: object) -> Offer:
    offer = Offer.objects.filter(merchant=merchant, title=title).first()
    if offer is None:
        now = timezone.now()
        offer = Offer.objects.create(
            merchant=merchant,
            title=title,
            description="Shown to customers in the app and the web wallet.",
            currency=merchant.currency,
            status=OfferStatus.LIVE,
            ends_at=now + timedelta(days=365),
            return_period_days=RETURN_PERIOD_DAYS,
            **values,
        )
    return offer


def seed_demo_year(merchant: Merchant) -> list[str]:
    if Purchase.objects.filter(source=Purchase.Source.DEMO, external_id__startswith=f"{YEAR_PREFIX}-").exists():
        return ["kept the demo year at Fjord Coffee"]
    shops = list(merchant.locations.order_by("pk"))
    if len(shops) < 2:
        return ["no second demo shop: skipped the demo year"]
    main, second = shops[0], shops[1]
    charity = Charity.objects.filter(slug="skolebenken").first()
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    rng = random.Random(2026)  # the same story every time

    autumn = _offer(
        merchant,
        "Autumn regulars: 8 % back",
        percent=Decimal("8"),
        max_reward_per_purchase_minor=10_000,
        starts_at=datetime.combine(today - timedelta(days=OFFER_DAYS_AGO), time(6), zone),
    )
    autumn.locations.add(main)
    giving = None
    if charity is not None:
        giving = _offer(
            merchant,
            "5 % to Skolebenken",
            reward_type="charity",
            percent=Decimal("5"),
            charity_ref=str(charity.pk),
            starts_at=datetime.combine(today - timedelta(days=SECOND_SHOP_DAYS_AGO), time(6), zone),
        )
        giving.locations.add(second)

    User = get_user_model()
    emails = [f"guest-{n:03d}@demo.cashback.example" for n in range(GUESTS)]
    User.objects.bulk_create(
        [User(email=email, full_name=f"Demo guest {n}", password="!") for n, email in enumerate(emails)],
        ignore_conflicts=True,
    )
    guests = list(User.objects.filter(email__in=emails).order_by("pk").values_list("pk", flat=True))

    purchases: list[Purchase] = []
    seen: list[int] = []  # guests who have bought already, for returning visits
    for days_ago in range(364, 0, -1):
        day = today - timedelta(days=days_ago)
        weekend = day.weekday() >= 5
        grown = min(1.0, max(0.0, (OFFER_DAYS_AGO - days_ago) / 60))  # the offer's effect builds up
        rate = (6 + 6 * grown) * (1.5 if weekend else 1.0)
        shop_open = days_ago <= SECOND_SHOP_DAYS_AGO
        for n in range(max(0, round(rng.gauss(rate, 1.5)))):
            returning = seen and rng.random() < 0.7 + 0.15 * grown
            user_id = rng.choice(seen) if returning else rng.choice(guests)
            if user_id not in seen:
                seen.append(user_id)
            at = datetime.combine(day, time(8), zone) + timedelta(minutes=rng.randrange(0, 600))
            amount = rng.randrange(4_500, 45_000, 50)
            roll = rng.random()
            refunded = amount if roll < 0.01 else (amount // 2 if roll < 0.03 else 0)
            reversed_ = 0.03 <= roll < 0.04
            status = Purchase.Status.CLEARED
            if reversed_:
                status = Purchase.Status.REVERSED
            elif refunded == amount:
                status = Purchase.Status.REFUNDED
            elif refunded:
                status = Purchase.Status.PARTLY_REFUNDED
            purchases.append(
                Purchase(
                    source=Purchase.Source.DEMO,
                    external_id=f"{YEAR_PREFIX}-{merchant.pk}-{day:%Y%m%d}-{n}",
                    user_id=user_id,
                    merchant=merchant,
                    location=second if shop_open and rng.random() < 0.4 else main,
                    amount_minor=amount,
                    cleared_minor=amount,
                    refunded_minor=refunded,
                    reversed=reversed_,
                    currency=merchant.currency,
                    occurred_at=at,
                    status=status,
                )
            )
    Purchase.objects.bulk_create(purchases, batch_size=2000)
    rewards = _rewards(purchases, autumn=autumn, giving=giving, main=main, second=second)
    Reward.objects.bulk_create(rewards, batch_size=2000)
    _book(merchant, rewards, autumn=autumn, giving=giving)
    return [f"created a demo year at Fjord Coffee: {len(purchases)} purchases, {len(rewards)} rewards"]


def _rewards(purchases: list[Purchase], *, autumn: Offer, giving: Offer | None, main, second) -> list[Reward]:
    now = timezone.now()
    rewards = []
    for purchase in purchases:
        if purchase.location_id == main.pk and purchase.occurred_at >= autumn.starts_at:
            offer, beneficiary = autumn, "consumer"
        elif giving is not None and purchase.location_id == second.pk and purchase.occurred_at >= giving.starts_at:
            offer, beneficiary = giving, "charity"
        else:
            continue
        decided = int(Decimal(purchase.amount_minor) * offer.percent / 100)
        if offer.max_reward_per_purchase_minor is not None:
            decided = min(decided, offer.max_reward_per_purchase_minor)
        net = purchase.net_minor
        amount = decided * net // purchase.amount_minor
        matures = purchase.occurred_at + timedelta(days=RETURN_PERIOD_DAYS)
        matured = beneficiary == "consumer" and matures <= now and amount > 0
        pending = amount if beneficiary == "consumer" and not matured else 0
        if amount == 0:
            status = RewardStatus.REVERSED
        elif amount < decided:
            status = RewardStatus.PARTLY_REVERSED
        else:
            status = RewardStatus.AVAILABLE if matured or beneficiary == "charity" else RewardStatus.PENDING
        rewards.append(
            Reward(
                kind=RewardKind.OFFER,
                offer=offer,
                purchase=purchase,
                user_id=purchase.user_id,
                beneficiary=beneficiary,
                charity_ref=offer.charity_ref,
                amount_minor=amount,
                decided_minor=decided,
                basis_minor=purchase.amount_minor,
                booked_minor=amount,
                pending_minor=pending,
                available_minor=amount if matured else 0,
                currency=purchase.currency,
                status=status,
                matures_at=matures,
                matured_at=matures if matured else None,
                ledger_key=f"{YEAR_PREFIX}:reward:{purchase.external_id}:{offer.pk}",
            )
        )
    return rewards


def _book(merchant: Merchant, rewards: list[Reward], *, autumn: Offer, giving: Offer | None) -> None:
    """What the rewards hold, in two balanced transactions from the merchant's receivable."""
    currency = merchant.currency
    receivable = account_get_or_create(
        kind=AccountKind.MERCHANT_RECEIVABLE, currency=currency, owner_key=merchant.ledger_owner_key
    )
    User = get_user_model()
    held: dict[tuple[int, str], int] = defaultdict(int)
    charity_total = 0
    for reward in rewards:
        if reward.beneficiary == "charity":
            charity_total += reward.amount_minor
        elif reward.user_id is not None:
            if reward.pending_minor:
                held[(reward.user_id, AccountKind.CONSUMER_PENDING)] += reward.pending_minor
            if reward.available_minor:
                held[(reward.user_id, AccountKind.CONSUMER_AVAILABLE)] += reward.available_minor
    credits = []
    for (user_id, kind), amount in sorted(held.items()):
        user = User(pk=user_id)
        user._state.adding = False
        credits.append(EntrySpec.credit(account_get_or_create(kind=kind, currency=currency, user=user), amount))
    for n in range(0, len(credits), 60):  # a transaction holds at most 64 entries
        part = credits[n : n + 60]
        transaction_post(
            idempotency_key=f"{YEAR_PREFIX}:{merchant.pk}:consumers:{n // 60}",
            kind=JournalKind.REWARD_EARN,
            entries=[EntrySpec.debit(receivable, sum(c.amount for c in part)), *part],
            memo=f"Demo: a year of cashback at {merchant.display_name}",
            causes={"offer": autumn.pk, "merchant": merchant.pk},
        )
    if giving is not None and charity_total:
        payable = charity_payable_account_open(charity_id=int(giving.charity_ref), currency=currency)
        transaction_post(
            idempotency_key=f"{YEAR_PREFIX}:{merchant.pk}:charity",
            kind=JournalKind.REWARD_EARN,
            entries=[EntrySpec.debit(receivable, charity_total), EntrySpec.credit(payable, charity_total)],
            memo=f"Demo: {giving.title} at {merchant.display_name}",
            causes={"offer": giving.pk, "merchant": merchant.pk},
        )
