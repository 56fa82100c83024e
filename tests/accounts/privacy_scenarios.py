"""A person with history, made through the services (as the product makes it): purchases with
rewards pending and available, a payout paid, a donation, a referral, a card, notifications."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from campaigns import services as campaign_services
from campaigns.models import Purchase
from cashback.providers.card_network import get_card_network
from charity.services import donation_make_all
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory, PurchaseFactory
from tests.campaigns.lifecycle_helpers import clear, fund_merchant
from tests.charity.factories import CharityFactory
from tests.referrals.factories import refer
from wallet import payouts
from wallet.models import AccountKind, PayoutAccount
from wallet.services import account_get_or_create


@dataclass
class History:
    user: User
    offer: Any
    charity: Any
    pending_purchase: Purchase


def person_with_history(**user_fields: Any) -> History:
    """A consumer with: a card; a matured reward (200.00 NOK) of which 100.00 was paid out and the
    rest given to a charity; a purchase whose reward (50.00 NOK) is still pending; a friend they
    referred; notifications. Everything else on the platform is left as the services made it."""
    user = UserFactory(**user_fields)
    account_services.signup_consents_record(user=user, accepted_terms=True, marketing=True)
    account_services.card_link(user=user, token=_card_token())
    PayoutAccount.objects.create(
        user=user, stripe_account_id=f"acct_test{uuid.uuid4().hex[:12]}", payouts_enabled=True, details_submitted=True
    )
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 10_000_000)
    earlier = timezone.now() - timedelta(hours=2)
    matured = PurchaseFactory(user=user, merchant=offer.merchant, amount_minor=200_000, occurred_at=earlier)
    clear(matured)
    campaign_services.rewards_mature_due(now=timezone.now() + timedelta(days=15))
    payout = payouts.payout_request(user=user, amount_minor=10_000, currency="NOK")
    payouts.payout_process(payout_id=payout.pk)
    payouts.payout_mark_paid(payout_id=payout.pk, stripe_payout_id="po_test_1")
    charity = CharityFactory()
    donation_make_all(user=user, charity_id=charity.pk, currency="NOK", idempotency_key="give-rest")
    pending = PurchaseFactory(user=user, merchant=offer.merchant, amount_minor=50_000, occurred_at=timezone.now())
    clear(pending)
    refer(referrer=user)
    return History(user=user, offer=offer, charity=charity, pending_purchase=pending)


def settle_pending(history: History) -> None:
    """The pending reward matures and the person gives it to the charity: nothing is left."""
    campaign_services.rewards_mature_due(now=timezone.now() + timedelta(days=15))
    donation_make_all(user=history.user, charity_id=history.charity.pk, currency="NOK", idempotency_key="give-last")


def available_minor(user: User) -> int:
    return account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK").available


_cards = count(1)


def _card_token() -> str:
    """A new card each time (the fake network gives the same card the same token)."""
    body = f"424242{next(_cards):09d}"
    digits = [int(d) for d in reversed(body)]
    total = sum(d if i % 2 else sum(divmod(2 * d, 10)) for i, d in enumerate(digits))
    return get_card_network().enrol(body + str((10 - total % 10) % 10), 12, 2031).token
