"""Factories for the charity tests. Money moves only through the ledger's services, as in production."""

import itertools
import uuid

import factory

from cashback.organisation_numbers import NORWAY_WEIGHTS
from charity.models import Charity, ImpactCost
from tests.wallet.factories import UserFactory, consumer_accounts, fund, settlement_account
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, transaction_post, transfer

__all__ = ["CharityFactory", "ImpactCostFactory", "UserFactory", "available_money", "charity_reward"]

_numbers = itertools.count(10_000_000)


def norwegian_org_number(seed: int) -> str:
    """A valid Norwegian organisation number (mod-11 check digit) made from ``seed``."""
    for candidate in itertools.count(seed):
        base = f"{candidate % 100_000_000:08d}"
        check = 11 - sum(int(d) * w for d, w in zip(base, NORWAY_WEIGHTS, strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return base + str(check)
    raise AssertionError("unreachable")


class CharityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Charity
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Charity {n} {uuid.uuid4().hex[:6]}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    country = "NO"
    organisation_number = factory.LazyFunction(lambda: norwegian_org_number(next(_numbers) * 7))
    cause = "Education"
    description = "Desks for schools."
    impact_unit = "school desk"
    impact_unit_plural = "school desks"
    is_active = True
    stripe_account_id = factory.LazyFunction(lambda: f"acct_test{uuid.uuid4().hex[:12]}")

    @factory.post_generation
    def costs(self, create: bool, extracted: dict | None, **kwargs) -> None:
        """``CharityFactory(costs={"NOK": 80000})``; by default a school desk costs 800 NOK."""
        if not create:
            return
        for currency, cost in (extracted if extracted is not None else {"NOK": 80_000}).items():
            ImpactCost.objects.create(charity=self, currency=currency, unit_cost_minor=cost)


class ImpactCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImpactCost

    charity = factory.SubFactory(CharityFactory, costs={})
    currency = "NOK"
    unit_cost_minor = 12_000


def available_money(user, amount: int, currency: str = "NOK"):
    """Give the consumer ``amount`` of available cashback (from an outside-world account)."""
    _pending, available = consumer_accounts(user, currency)
    fund(available, amount)
    return available


def merchant_funding(currency: str = "NOK", amount: int = 10_000_000):
    account = account_get_or_create(
        kind=AccountKind.MERCHANT_FUNDING, currency=currency, owner_key=f"merchant:test-{uuid.uuid4().hex[:10]}"
    )
    transaction_post(
        idempotency_key=f"test-funding:{uuid.uuid4().hex}",
        kind=JournalKind.MERCHANT_FUNDING,
        entries=transfer(debit=settlement_account(currency), credit=account, amount=amount),
    )
    return account


def charity_reward(*, charity, user, amount: int, offer_id: int, purchase_id: int, funding=None, currency: str = "NOK"):
    """Post a charity-reward earn the way campaigns does: merchant funding → charity payable, causes
    {purchase, offer, user}."""
    from charity.services import charity_payable_account_open

    funding = funding or merchant_funding(currency)
    return transaction_post(
        idempotency_key=f"test:purchase:{purchase_id}:offer:{offer_id}:earn",
        kind=JournalKind.REWARD_EARN,
        entries=transfer(
            debit=funding, credit=charity_payable_account_open(charity_id=charity.pk, currency=currency), amount=amount
        ),
        memo="Charity reward",
        causes={"purchase": purchase_id, "offer": offer_id, "user": user.pk},
    )
