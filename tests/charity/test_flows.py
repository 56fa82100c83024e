"""End to end on PostgreSQL: purchases through campaigns' lifecycle, auto-donate on maturity, charity-reward
offers, impact equal to the ledger's sums (hypothesis), and concurrent donations that never overdraw."""

import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Case, F, Sum, When
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from campaigns.services import rewards_mature_due
from cashback.providers.stripe_gateway import FakeStripeGateway
from charity import selectors, services
from charity.errors import NothingToDonateError
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event, fund_merchant
from tests.charity.factories import CharityFactory, UserFactory, available_money, charity_reward
from tests.concurrency import run_together
from wallet.errors import InsufficientFundsError
from wallet.invariants import ledger_violations
from wallet.models import AccountKind, Direction, Entry, JournalKind
from wallet.selectors import wallet_balances
from wallet.services import transaction_post, transfer

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _ledger_given(charity) -> dict[str, int]:
    """Net credits to the charity's payable accounts outside disbursements, summed straight from the entries."""
    rows = (
        Entry.objects.filter(account__owner_key=f"charity:{charity.pk}", account__kind=AccountKind.CHARITY_PAYABLE)
        .exclude(transaction__kind=JournalKind.DONATION_DISBURSEMENT)
        .values("currency")
        .annotate(total=Sum(Case(When(direction=Direction.CREDIT, then=F("amount")), default=-F("amount"))))
    )
    return {row["currency"]: row["total"] for row in rows if row["total"]}


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_auto_donate_through_the_real_reward_lifecycle():
    from tests.accounts.factories import UserFactory as AccountUserFactory

    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 1_000_000)
    charity = CharityFactory(costs={"NOK": 80_000})
    user = AccountUserFactory()
    services.auto_donate_set(user=user, charity_id=charity.pk, share_percent=25)

    event(user=user, merchant=offer.merchant, kind="auth", amount=20_050, txn="t1")
    event(user=user, merchant=offer.merchant, kind="clearing", amount=20_050, txn="t1")
    assert rewards_mature_due(now=timezone.now() + timedelta(days=15)) == 1
    assert rewards_mature_due(now=timezone.now() + timedelta(days=15)) == 0  # replayed task: nothing new

    # 10 % of 200.50 = 20.05 NOK; 25 % of 2005 øre = 501.25 → 501 (half to even does not apply: .25 rounds down)
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 2_005 - 501
    [impact] = selectors.consumer_impact(user=user)
    assert impact.given == {"NOK": 501}
    [row] = selectors.donation_rows(selectors.donation_entries(user=user))
    assert row.automatic and row.charity == charity
    assert wallet_balances(user=user)[0].donated == 501
    assert ledger_violations() == []


def test_a_charity_reward_offer_credits_the_charity_for_the_consumer_and_the_campaign():
    from tests.accounts.factories import UserFactory as AccountUserFactory

    charity = CharityFactory(costs={"NOK": 12_000}, impact_unit="book", impact_unit_plural="books")
    offer = OfferFactory(reward_type="charity", percent=Decimal("10"), charity_ref=str(charity.pk))
    fund_merchant(offer.merchant, 1_000_000)
    alice, bob = AccountUserFactory(), AccountUserFactory()

    event(user=alice, merchant=offer.merchant, kind="clearing", amount=300_000, txn="a1")
    event(user=bob, merchant=offer.merchant, kind="clearing", amount=60_000, txn="b1")
    event(user=alice, merchant=offer.merchant, kind="refund", amount=60_000, txn="a1-r", original="a1")

    # Alice: 10 % of 3000 NOK, less 10 % of the 600 NOK refund = 240 NOK = 2 books; Bob: 60 NOK = half a book.
    [alice_impact] = selectors.consumer_impact(user=alice)
    assert (alice_impact.given, alice_impact.units, alice_impact.next_percent) == ({"NOK": 24_000}, 2, 0)
    [bob_impact] = selectors.consumer_impact(user=bob)
    assert (bob_impact.units, bob_impact.next_percent) == (0, 50)
    [campaign] = selectors.campaign_impact(offer_id=offer.pk)
    assert campaign.given == {"NOK": 30_000} == _ledger_given(charity)
    assert selectors.charity_impact(charity=charity).given == _ledger_given(charity)
    # The consumer's wallet is untouched by a charity reward, and it is not on their receipt.
    assert all(b.available == 0 and b.donated == 0 for b in wallet_balances(user=alice))
    assert selectors.donation_receipt(user=alice, year=timezone.localdate().year).is_empty
    assert ledger_violations() == []


# --- impact equals the ledger's sums --------------------------------------------------------------

gifts = st.lists(
    st.tuples(
        st.sampled_from(["donate", "donate_all", "reward", "reverse", "disburse"]),
        st.integers(min_value=0, max_value=2),  # which user
        st.integers(min_value=0, max_value=1),  # which charity
        st.integers(min_value=1, max_value=250_000),
        st.sampled_from(["NOK", "EUR"]),
    ),
    min_size=1,
    max_size=12,
)


_ids = itertools.count(1)


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=gifts)
def test_impact_figures_equal_the_ledger_sums(steps):
    """Random donations, donate-alls, charity rewards, their reversals and disbursements: every impact figure
    (per consumer, per charity, per campaign) equals a model kept beside it and the ledger's own sums."""
    users = [UserFactory() for _ in range(3)]
    charities = [CharityFactory(costs={"NOK": 80_000, "EUR": 7_000}), CharityFactory(costs={"NOK": 12_000})]
    offers = [next(_ids), next(_ids)]  # this example's campaigns
    for user in users:
        for currency in ("NOK", "EUR"):
            available_money(user, 300_000, currency)
    earned: list = []
    by_user: dict = defaultdict(int)  # (user, charity, currency) -> given
    by_offer: dict = defaultdict(int)  # (offer, charity, currency) -> given
    FakeStripeGateway.reset()
    for n, (action, u, c, amount, currency) in enumerate(steps):
        user, charity, offer_id = users[u], charities[c], offers[c]
        try:
            if action == "donate":
                services.donation_make(
                    user=user, charity_id=charity.pk, amount_minor=amount, currency=currency, idempotency_key=f"h{n}"
                )
            elif action == "donate_all":
                journal = services.donation_make_all(
                    user=user, charity_id=charity.pk, currency=currency, idempotency_key=f"h{n}"
                )
                amount = journal.entries.get(direction="debit").amount
            elif action == "reward":
                journal = charity_reward(
                    charity=charity,
                    user=user,
                    amount=amount,
                    offer_id=offer_id,
                    purchase_id=next(_ids),
                    currency=currency,
                )
                earned.append((journal, charity, user, offer_id, currency))
                by_offer[(offer_id, charity.pk, currency)] += amount
            elif action == "reverse" and earned:
                journal, charity, user, offer_id, currency = earned.pop()
                payable = selectors.charity_payable_account(charity_id=charity.pk, currency=currency)
                back = min(amount, journal.entries.get(direction="credit").amount, payable.available)
                if back > 0:
                    transaction_post(
                        idempotency_key=f"{journal.idempotency_key}:reverse",
                        kind=JournalKind.REWARD_REVERSE,
                        entries=transfer(
                            debit=payable, credit=journal.entries.get(direction="debit").account, amount=back
                        ),
                        causes=journal.causes,
                    )
                    by_user[(user.pk, charity.pk, currency)] -= back
                    by_offer[(offer_id, charity.pk, currency)] -= back
                continue
            elif action == "disburse":
                with override_settings(STRIPE_PROVIDER="fake"):
                    opened = services.disbursement_open(
                        charity_id=charity.pk, currency=currency, period=date(2026, 1 + n % 12, 1)
                    )
                    if opened is not None:
                        services.disbursement_send(disbursement_id=opened.pk)
                continue
            else:
                continue
        except (InsufficientFundsError, NothingToDonateError):
            continue
        by_user[(user.pk, charity.pk, currency)] += amount

    def nonzero(figures: dict) -> dict:
        return {key: value for key, value in figures.items() if value}

    for user in users:
        figures = {
            (user.pk, i.charity.pk, cur): amt
            for i in selectors.consumer_impact(user=user)
            for cur, amt in i.given.items()
        }
        assert figures == nonzero({k: v for k, v in by_user.items() if k[0] == user.pk})
    for charity in charities:
        expected: dict = defaultdict(int)
        for (_user, charity_id, currency), amount in by_user.items():
            if charity_id == charity.pk:
                expected[currency] += amount
        assert selectors.charity_impact(charity=charity).given == _ledger_given(charity) == nonzero(expected)
    for offer_id in offers:
        figures = {
            (offer_id, i.charity.pk, cur): amt
            for i in selectors.campaign_impact(offer_id=offer_id)
            for cur, amt in i.given.items()
        }
        assert figures == nonzero({k: v for k, v in by_offer.items() if k[0] == offer_id})
    assert ledger_violations() == []
    FakeStripeGateway.reset()


# --- concurrency -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simultaneous_donations_never_overdraw():
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)  # room for exactly three donations of 30.00

    def work(index: int):
        return services.donation_make(
            user=user, charity_id=charity.pk, amount_minor=3_000, currency="NOK", idempotency_key=f"race-{index}"
        )

    results = run_together(work, threads=8)

    refused = [r for r in results if isinstance(r, InsufficientFundsError)]
    made = [r for r in results if not isinstance(r, Exception)]
    assert len(made) == 3 and len(refused) == 5, results
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 1_000
    assert selectors.charity_impact(charity=charity).given == {"NOK": 9_000}
    assert ledger_violations() == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_donate_all_and_donation_never_overdraw():
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)

    def work(index: int):
        if index % 2:
            return services.donation_make_all(
                user=user, charity_id=charity.pk, currency="NOK", idempotency_key=f"all-{index}"
            )
        return services.donation_make(
            user=user, charity_id=charity.pk, amount_minor=4_000, currency="NOK", idempotency_key=f"part-{index}"
        )

    results = run_together(work, threads=6)

    made = [r for r in results if not isinstance(r, Exception)]
    assert all(
        isinstance(r, InsufficientFundsError | NothingToDonateError) for r in results if isinstance(r, Exception)
    )
    given = sum(journal.entries.get(direction="debit").amount for journal in made)
    assert given == selectors.charity_impact(charity=charity).given["NOK"] <= 10_000
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 10_000 - given >= 0
    assert ledger_violations() == []


@pytest.mark.django_db(transaction=True)
def test_the_same_donation_sent_concurrently_is_made_once():
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)

    results = run_together(
        lambda _i: services.donation_make(
            user=user, charity_id=charity.pk, amount_minor=2_500, currency="NOK", idempotency_key="one-tap"
        ),
        threads=8,
    )

    assert {r.pk for r in results} == {results[0].pk}
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 7_500
