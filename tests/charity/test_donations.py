"""Donations, donate-all and auto-donate through the services and the event; impact from the ledger."""

import pytest

from cashback import events
from cashback.keyed_ids import external_key
from charity import selectors, services
from charity.errors import CharityInactiveError, CharityNotFoundError, InvalidSharePercentError, NothingToDonateError
from charity.models import AutoDonateSetting
from charity.services import donations
from tests.charity.factories import CharityFactory, UserFactory, available_money, charity_reward
from wallet.errors import IdempotencyConflictError, InsufficientFundsError, InvalidAmountError
from wallet.models import AccountKind, Entry, JournalKind, JournalTransaction, LedgerAccount
from wallet.selectors import wallet_balances

pytestmark = pytest.mark.django_db


def _counts():
    return JournalTransaction.objects.count(), Entry.objects.count(), LedgerAccount.objects.count()


def test_a_donation_moves_available_cashback_to_the_charity_and_counts_as_impact():
    user, charity = UserFactory(), CharityFactory(costs={"NOK": 80_000})
    available_money(user, 200_000)

    journal = services.donation_make(
        user=user, charity_id=charity.pk, amount_minor=120_000, currency="NOK", idempotency_key="k1"
    )

    assert journal.kind == JournalKind.DONATION
    assert journal.causes == {"user": user.pk, "charity": charity.pk}
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 80_000
    assert selectors.charity_payable_account(charity_id=charity.pk, currency="NOK").balance == 120_000
    [balances] = wallet_balances(user=user)
    assert balances.donated == 120_000
    [impact] = selectors.consumer_impact(user=user)
    assert (impact.charity, impact.given, impact.units, impact.next_percent) == (charity, {"NOK": 120_000}, 1, 50)
    assert selectors.charity_impact(charity=charity).given == {"NOK": 120_000}


def test_replaying_a_donation_key_changes_nothing_and_another_amount_is_a_conflict():
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)
    first = services.donation_make(
        user=user, charity_id=charity.pk, amount_minor=1_000, currency="NOK", idempotency_key="k"
    )

    again = services.donation_make(
        user=user, charity_id=charity.pk, amount_minor=1_000, currency="NOK", idempotency_key="k"
    )
    with pytest.raises(IdempotencyConflictError):
        services.donation_make(
            user=user, charity_id=charity.pk, amount_minor=2_000, currency="NOK", idempotency_key="k"
        )

    assert again.pk == first.pk
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 9_000


def test_the_ledger_holds_a_keyed_hash_of_the_client_key_and_an_older_verbatim_key_still_replays(monkeypatch):
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)
    with monkeypatch.context() as before_the_hash:  # as donations were keyed before the keyed hash
        before_the_hash.setattr(donations, "external_key", lambda *, namespace, value: value)
        old = services.donation_make(
            user=user, charity_id=charity.pk, amount_minor=1_000, currency="NOK", idempotency_key="old-key"
        )
    assert old.idempotency_key == f"donation:{user.pk}:old-key"

    replayed = services.donation_make(
        user=user, charity_id=charity.pk, amount_minor=1_000, currency="NOK", idempotency_key="old-key"
    )
    new = services.donation_make(
        user=user, charity_id=charity.pk, amount_minor=500, currency="NOK", idempotency_key="new-key-marker"
    )

    assert replayed.pk == old.pk
    assert new.idempotency_key == f"donation:{user.pk}:{external_key(namespace='donation', value='new-key-marker')}"
    assert "marker" not in new.idempotency_key + new.memo
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 8_500


def test_two_users_may_use_the_same_client_key():
    charity = CharityFactory()
    for user in (UserFactory(), UserFactory()):
        available_money(user, 1_000)
        services.donation_make(
            user=user, charity_id=charity.pk, amount_minor=500, currency="NOK", idempotency_key="same"
        )

    assert selectors.charity_impact(charity=charity).given == {"NOK": 1_000}


@pytest.mark.parametrize(
    ("amount", "error"),
    [(10_001, InsufficientFundsError), (0, InvalidAmountError), (-5, InvalidAmountError), (True, InvalidAmountError)],
)
def test_bad_amounts_are_refused_and_nothing_changes(amount, error):
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)
    before = _counts()

    with pytest.raises(error):
        services.donation_make(
            user=user, charity_id=charity.pk, amount_minor=amount, currency="NOK", idempotency_key="k"
        )

    assert _counts() == before
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 10_000


def test_money_reserved_by_a_hold_cannot_be_donated():
    from django.utils import timezone

    from wallet.services import hold_place

    user, charity = UserFactory(), CharityFactory()
    available = available_money(user, 10_000)
    hold_place(
        idempotency_key="hold-1",
        account=available,
        counterparty=services.charity_payable_account_open(charity_id=CharityFactory().pk, currency="NOK"),
        amount=6_000,
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )

    with pytest.raises(InsufficientFundsError):
        services.donation_make(
            user=user, charity_id=charity.pk, amount_minor=5_000, currency="NOK", idempotency_key="k"
        )
    services.donation_make(user=user, charity_id=charity.pk, amount_minor=4_000, currency="NOK", idempotency_key="k2")


def test_a_donation_without_any_balance_creates_no_account():
    user, charity = UserFactory(), CharityFactory()
    before = _counts()

    with pytest.raises(InsufficientFundsError):
        services.donation_make(user=user, charity_id=charity.pk, amount_minor=100, currency="SEK", idempotency_key="k")

    assert _counts() == before


def test_an_inactive_or_unknown_charity_takes_no_donation():
    user = UserFactory()
    available_money(user, 10_000)
    inactive = CharityFactory(is_active=False)
    before = _counts()

    with pytest.raises(CharityInactiveError):
        services.donation_make(user=user, charity_id=inactive.pk, amount_minor=100, currency="NOK", idempotency_key="a")
    with pytest.raises(CharityNotFoundError):
        services.donation_make(user=user, charity_id=999_999, amount_minor=100, currency="NOK", idempotency_key="b")

    assert _counts() == before


def test_donate_all_gives_the_whole_available_balance_once():
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 4_321)

    first = services.donation_make_all(user=user, charity_id=charity.pk, currency="NOK", idempotency_key="all")
    available_money(user, 1_000)
    replay = services.donation_make_all(user=user, charity_id=charity.pk, currency="NOK", idempotency_key="all")

    assert replay.pk == first.pk
    assert first.entries.get(direction="debit").amount == 4_321
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 1_000


def test_donate_all_with_nothing_available_is_refused():
    user, charity = UserFactory(), CharityFactory()

    with pytest.raises(NothingToDonateError):
        services.donation_make_all(user=user, charity_id=charity.pk, currency="NOK", idempotency_key="all")


# --- auto-donate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "share", "expected"),
    [(1_000, 25, 250), (5, 50, 2), (15, 50, 8), (3, 50, 2), (1, 50, 0), (999, 100, 999), (7, 0, 0)],
)
def test_shares_round_half_to_even(amount, share, expected):
    assert services.share_of(amount, share) == expected


@pytest.mark.parametrize("share", [-1, 101, 12.5, "50", None, True])
def test_a_share_outside_0_to_100_is_refused(share):
    user, charity = UserFactory(), CharityFactory()

    with pytest.raises(InvalidSharePercentError):
        services.auto_donate_set(user=user, charity_id=charity.pk, share_percent=share)

    assert not AutoDonateSetting.objects.exists()


def test_auto_donate_needs_an_active_charity_for_a_share_above_zero():
    user = UserFactory()

    with pytest.raises(CharityInactiveError):
        services.auto_donate_set(user=user, charity_id=CharityFactory(is_active=False).pk, share_percent=10)
    with pytest.raises(CharityNotFoundError):
        services.auto_donate_set(user=user, charity_id=None, share_percent=10)

    assert not AutoDonateSetting.objects.exists()


def _reward_matures(user, *, reward_id: int, amount: int, currency: str = "NOK"):
    """What campaigns does when a reward matures: pending → available, then announce reward_available."""
    from tests.wallet.factories import consumer_accounts, fund
    from wallet.services import transaction_post, transfer

    pending, available = consumer_accounts(user, currency)
    fund(pending, amount)
    transaction_post(
        idempotency_key=f"test:reward:{reward_id}:mature",
        kind=JournalKind.REWARD_MATURE,
        entries=transfer(debit=pending, credit=available, amount=amount),
        causes={"reward": reward_id},
    )
    events.announce(
        "reward_available",
        reward_id=reward_id,
        user_id=user.pk,
        purchase_id=reward_id,
        amount_minor=amount,
        currency=currency,
    )


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_auto_donate_gives_the_share_of_every_reward_that_becomes_available():
    user, charity = UserFactory(), CharityFactory()
    services.auto_donate_set(user=user, charity_id=charity.pk, share_percent=30)

    _reward_matures(user, reward_id=41, amount=1_005)  # 301.5 → 302 (half to even)
    _reward_matures(user, reward_id=42, amount=1_000)

    journal = JournalTransaction.objects.get(idempotency_key="autodonate:reward:41")
    assert journal.causes == {"user": user.pk, "charity": charity.pk, "reward": 41}
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 2_005 - 302 - 300
    assert selectors.charity_impact(charity=charity).given == {"NOK": 602}
    rows = selectors.donation_rows(selectors.donation_entries(user=user))
    assert [(row.automatic, row.reward_id) for row in rows] == [(True, 42), (True, 41)]


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_a_replayed_fact_donates_once_even_after_the_setting_changed():
    user, charity = UserFactory(), CharityFactory()
    services.auto_donate_set(user=user, charity_id=charity.pk, share_percent=50)
    _reward_matures(user, reward_id=7, amount=1_000)
    services.auto_donate_set(user=user, charity_id=charity.pk, share_percent=100)

    events.announce("reward_available", reward_id=7, user_id=user.pk, purchase_id=7, amount_minor=1_000, currency="NOK")

    assert JournalTransaction.objects.filter(kind=JournalKind.DONATION).count() == 1
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 500


@pytest.mark.parametrize("case", ["no setting", "zero", "inactive"])
def test_no_auto_donation_without_an_active_share(case):
    user, charity = UserFactory(), CharityFactory()
    if case != "no setting":
        services.auto_donate_set(user=user, charity_id=charity.pk, share_percent=0 if case == "zero" else 20)
    if case == "inactive":
        charity.is_active = False
        charity.save()

    _reward_matures(user, reward_id=9, amount=1_000)

    assert not JournalTransaction.objects.filter(kind=JournalKind.DONATION).exists()
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 1_000


def test_an_auto_donation_that_no_longer_fits_does_not_undo_the_maturity():
    """The money was held between maturity and the fact (a checkout hold): maturity stands, no donation."""
    from django.db import transaction
    from django.utils import timezone

    from wallet.services import hold_place

    user, charity = UserFactory(), CharityFactory()
    services.auto_donate_set(user=user, charity_id=charity.pk, share_percent=100)
    available = available_money(user, 1_000)
    hold_place(
        idempotency_key="hold",
        account=available,
        counterparty=services.charity_payable_account_open(charity_id=charity.pk, currency="NOK"),
        amount=1_000,
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )

    with transaction.atomic():
        events.announce(
            "reward_available", reward_id=5, user_id=user.pk, purchase_id=5, amount_minor=1_000, currency="NOK"
        )

    assert not JournalTransaction.objects.filter(kind=JournalKind.DONATION).exists()


# --- charity rewards and impact -------------------------------------------------------------------


def test_charity_rewards_count_for_the_consumer_the_charity_and_the_campaign():
    alice, bob = UserFactory(), UserFactory()
    desks = CharityFactory(costs={"NOK": 80_000, "EUR": 7_000})
    books = CharityFactory(impact_unit="book", impact_unit_plural="books", costs={"NOK": 12_000})
    charity_reward(charity=desks, user=alice, amount=60_000, offer_id=1, purchase_id=100)
    charity_reward(charity=desks, user=bob, amount=30_000, offer_id=1, purchase_id=101)
    charity_reward(charity=books, user=alice, amount=24_000, offer_id=2, purchase_id=102)
    charity_reward(charity=desks, user=alice, amount=3_500, offer_id=3, purchase_id=103, currency="EUR")
    available_money(alice, 50_000)
    services.donation_make(user=alice, charity_id=desks.pk, amount_minor=40_000, currency="NOK", idempotency_key="d")

    alice_impact = {impact.charity: impact for impact in selectors.consumer_impact(user=alice)}
    # 600 + 400 NOK = 1000 NOK = 1.25 desks, + 35 EUR = 0.5 desk → 1.75 desks
    assert alice_impact[desks].given == {"NOK": 100_000, "EUR": 3_500}
    assert (alice_impact[desks].units, alice_impact[desks].next_percent) == (1, 75)
    assert (alice_impact[books].units, alice_impact[books].unit_label) == (2, "books")
    campaign = {impact.charity: impact.given for impact in selectors.campaign_impact(offer_id=1)}
    assert campaign == {desks: {"NOK": 90_000}}
    assert selectors.charity_impact(charity=desks).given == {"NOK": 130_000, "EUR": 3_500}
    assert selectors.consumer_impact_by_source(user=alice) == {
        "donations": {"NOK": 40_000},
        "rewards": {"NOK": 84_000, "EUR": 3_500},
    }
    # Charity rewards are the merchant's money: not on the consumer's wallet figures or receipt.
    assert {b.currency: b.donated for b in wallet_balances(user=alice)}["NOK"] == 40_000


def test_a_reversed_charity_reward_no_longer_counts():
    from wallet.services import transaction_post, transfer

    user, charity = UserFactory(), CharityFactory()
    earn = charity_reward(charity=charity, user=user, amount=80_000, offer_id=5, purchase_id=55)
    payable = selectors.charity_payable_account(charity_id=charity.pk, currency="NOK")
    funding = earn.entries.get(direction="debit").account
    transaction_post(
        idempotency_key="test:purchase:55:offer:5:reverse",
        kind=JournalKind.REWARD_REVERSE,
        entries=transfer(debit=payable, credit=funding, amount=30_000),
        causes={"purchase": 55, "offer": 5, "user": user.pk},
    )

    [impact] = selectors.consumer_impact(user=user)
    assert impact.given == {"NOK": 50_000}
    assert selectors.campaign_impact(offer_id=5)[0].given == {"NOK": 50_000}


def test_payable_account_for_an_unknown_charity_is_refused():
    with pytest.raises(CharityNotFoundError):
        services.charity_payable_account_open(charity_id=424242, currency="NOK")
    assert not LedgerAccount.objects.filter(kind=AccountKind.CHARITY_PAYABLE).exists()


def test_the_payable_account_selector_reads_and_never_opens_an_account():
    charity = CharityFactory()

    assert selectors.charity_payable_account(charity_id=charity.pk, currency="NOK") is None
    assert not LedgerAccount.objects.filter(kind=AccountKind.CHARITY_PAYABLE).exists()
    opened = services.charity_payable_account_open(charity_id=charity.pk, currency="NOK")
    assert selectors.charity_payable_account(charity_id=charity.pk, currency="NOK") == opened


def test_the_ledger_decides_a_replay_even_when_the_balance_is_gone_since():
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 1_000)

    first = services.donation_give(
        user=user, charity_id=charity.pk, currency="NOK", amount_minor=1_000, idempotency_key="k"
    )
    replay = services.donation_give(
        user=user, charity_id=charity.pk, currency="NOK", amount_minor=1_000, idempotency_key="k"
    )

    assert (first.created, replay.created) == (True, False)
    assert replay.journal.pk == first.journal.pk
