"""Factories and small helpers for the referral tests. Referrals are made through the sign-up
service (as the product makes them), so abuse signals and programme versions are real."""

from typing import Any

import factory
from django.utils import timezone

from referrals import services
from referrals.models import Referral, ReferralCode
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import PurchaseFactory


class ReferralCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralCode

    user = factory.SubFactory(UserFactory)
    code = factory.Sequence(lambda n: f"TESTC{n:04d}")


def refer(
    referrer: Any = None, friend: Any = None, *, ip: str | None = None, device_id: str = "", **kwargs: Any
) -> Referral:
    """A friend signed up with ``referrer``'s code (both made if not given)."""
    referrer = referrer or UserFactory()
    friend = friend or UserFactory()
    code = services.referral_code_for(user=referrer).code
    return services.referral_attach_at_signup(friend=friend, code=code, ip=ip, device_id=device_id, **kwargs)


def purchase_of(friend: Any, *, amount_minor: int = 30_000, currency: str = "NOK", **kwargs: Any) -> Any:
    """A cleared purchase of the friend, made just now (after the sign-up, inside the window)."""
    kwargs.setdefault("occurred_at", timezone.now())
    return PurchaseFactory(user=friend, amount_minor=amount_minor, currency=currency, **kwargs)


def qualify_and_mature(referral: Referral, **purchase_kwargs: Any) -> Referral:
    """The friend's purchase earns cashback, then the cashback becomes available."""
    purchase = purchase_of(referral.friend, **purchase_kwargs)
    services.referral_purchase_rewarded(friend_id=referral.friend_id, purchase_id=purchase.pk)
    services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=purchase.pk)
    referral.refresh_from_db()
    return referral
