"""bench/e2e.py's world: consumers with cards, and funded merchants with shops and a live 10 % offer.

Made through Django's models and the ledger's services, so it is what the app would have made.
Import this module only once Django is set up (``bench/e2e.py``'s ``build_world`` does): it imports the
project's models at the top.
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from accounts.models import Card
from campaigns.models import Offer
from merchants.models import Location, Merchant
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, platform_account, transaction_post, transfer


def _merchant_with_offer(run: str, index: int, shops: int) -> tuple:
    """A funded merchant with ``shops`` shops (network merchant id ``NM-<run>-<index>``) and one live
    10 % offer; returns (merchant id, network merchant id, store ids)."""
    merchant = Merchant.objects.create(
        legal_name=f"Bench Kaffe {run}-{index} AS",
        display_name=f"Bench Kaffe {run}-{index}",
        organisation_number=str(900_000_000 + (int(run[:6], 16) + index) % 99_999_999)[:9],
        country="NO",
        currency="NOK",
        category_code="5814",
        contact_name="Bench",
        contact_email=f"bench-{run}-{index}@example.com",
        contact_phone="+4722000000",
        status=Merchant.Status.APPROVED,
        approved_at=timezone.now(),
    )
    network_id = f"NM-{run}-{index}"
    Location.objects.bulk_create(
        Location(
            merchant=merchant,
            name=f"Shop {i}",
            street="Stranden 1",
            postcode="0250",
            city="Oslo",
            country="NO",
            time_zone="Europe/Oslo",
            network_merchant_id=network_id,
            network_store_id=f"ST-{i}",
        )
        for i in range(shops)
    )
    now = timezone.now()
    Offer.objects.create(
        merchant=merchant,
        title="10 % back",
        reward_type="percent",
        percent=Decimal("10"),
        currency="NOK",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        status="live",
    )
    funding = account_get_or_create(
        kind=AccountKind.MERCHANT_FUNDING, currency="NOK", owner_key=merchant.ledger_owner_key
    )
    account_get_or_create(kind=AccountKind.MERCHANT_RECEIVABLE, currency="NOK", owner_key=merchant.ledger_owner_key)
    transaction_post(
        idempotency_key=f"bench:e2e:{run}:{index}:funding",
        kind=JournalKind.MERCHANT_FUNDING,
        entries=transfer(
            debit=platform_account(kind=AccountKind.SETTLEMENT, currency="NOK"), credit=funding, amount=10**12
        ),
    )
    return merchant.pk, network_id, [f"ST-{i}" for i in range(shops)]


def build_world(*, run: str, cards: int, shops: int, merchants: int) -> dict:
    """Created through Django (in this process, before any client is forked): ``cards`` consumers with
    a card each, one hot merchant with ``shops`` shops, and ``merchants`` more with one shop each;
    names carry ``run``. Returns the cards' tokens and, per merchant, (id, network merchant id, store
    ids): ``hot`` and the list ``spread``."""
    User = get_user_model()
    users = User.objects.bulk_create(User(email=f"bench-{run}-{i}@example.com") for i in range(cards))
    tokens = [f"ctok_bench_{run}_{i}" for i in range(cards)]
    Card.objects.bulk_create(
        Card(user=user, network_token=token, first_six="424242", last_four="4242", exp_month=12, exp_year=2034)
        for user, token in zip(users, tokens, strict=True)
    )
    hot = _merchant_with_offer(run, 0, shops)
    spread = [_merchant_with_offer(run, i + 1, 1) for i in range(merchants)]
    connection.close()  # the forked clients must not share this process's connection
    return {"tokens": tokens, "hot": hot, "spread": spread}
