"""The purchase lifecycle through its public door, ``purchase_event_apply``, and the beat services:
rewards booked to the ledger, clearing adjustments, refunds (partial, excessive, repeated, without an
original), reversals, maturity, receivables, challenges, expiry with warnings, monthly spend offers."""

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.blocking import user_block
from campaigns import services
from campaigns.errors import InvalidPurchaseEventError, RefundUnmatchedError
from campaigns.models import ChallengeProgress, Offer, Purchase, PurchaseEvent, Reward
from campaigns.purchase_keys import reward_ledger_key
from cashback import events
from cashback.models import Fact
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import ChallengeFactory, LocationFactory, OfferFactory
from tests.campaigns.lifecycle_helpers import (
    assert_ledger_sound,
    balance,
    consumer_balances,
    event,
    fund_merchant,
    merchant_balance,
    reward_amounts,
    spend,
)
from wallet.models import AccountKind, JournalKind, JournalTransaction

pytestmark = pytest.mark.django_db

FACTS = ("reward_earned", "reward_available", "reward_reversed", "purchase_refunded")


@pytest.fixture
def announced(monkeypatch):
    """The facts announced, in order (other apps' subscribers are left out of these tests): read
    from the outbox, where ``announce`` records them in the announcer's transaction."""
    for fact in FACTS:
        monkeypatch.setitem(events._subscribers, fact, [])
    return AnnouncedFacts()


class AnnouncedFacts(Sequence):
    """A live, read-only list of ``(fact, payload)`` pairs in the order they were announced."""

    def _facts(self) -> list:
        return [(fact.kind, fact.payload) for fact in Fact.objects.order_by("pk")]

    def __getitem__(self, index):
        return self._facts()[index]

    def __len__(self) -> int:
        return Fact.objects.count()

    def __eq__(self, other) -> bool:
        return self._facts() == list(other)

    def __repr__(self) -> str:
        return repr(self._facts())


@pytest.fixture
def shop():
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    return offer


# --- Earning ---------------------------------------------------------------------------------


def test_auth_earns_a_pending_reward_from_the_merchant_and_clearing_recomputes_it(shop, announced):
    user = UserFactory()
    fund_merchant(shop.merchant, 100_000)

    purchase = event(user=user, merchant=shop.merchant, kind="auth", amount=20_000)
    assert purchase.status == "authorised"
    assert consumer_balances(user)["pending"] == 2_000
    assert merchant_balance(shop.merchant, AccountKind.MERCHANT_FUNDING) == 98_000

    purchase = event(user=user, merchant=shop.merchant, kind="clearing", amount=25_000)  # a tip

    assert purchase.status == "cleared" and purchase.amount_minor == 25_000
    assert reward_amounts(purchase) == {shop.pk: 2_500}
    assert consumer_balances(user)["pending"] == 2_500
    keys = set(JournalTransaction.objects.values_list("idempotency_key", flat=True))
    prefix = reward_ledger_key(source="card", external_id="txn_1", offer_id=shop.pk)
    assert {f"{prefix}:earn", f"{prefix}:adjust:2"} <= keys
    assert [fact for fact, _ in announced] == ["reward_earned"]
    shop.refresh_from_db()
    assert shop.budget_spent_minor == 2_500
    assert_ledger_sound()


@override_settings(REWARD_ON_AUTH=False)
def test_without_reward_on_auth_only_the_clearing_earns(shop):
    user = UserFactory()

    purchase = event(user=user, merchant=shop.merchant, kind="auth", amount=20_000)
    assert reward_amounts(purchase) == {} and purchase.decisions == []

    purchase = event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    assert reward_amounts(purchase) == {shop.pk: 2_000}


def test_unfunded_merchant_owes_the_reward_it_is_never_lost(shop):
    user = UserFactory()
    fund_merchant(shop.merchant, 500)

    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)

    assert consumer_balances(user)["pending"] == 2_000
    assert merchant_balance(shop.merchant, AccountKind.MERCHANT_FUNDING) == 0
    assert merchant_balance(shop.merchant, AccountKind.MERCHANT_RECEIVABLE) == -1_500
    assert_ledger_sound()


def test_the_decisions_say_why_an_offer_did_not_earn(shop):
    OfferFactory(merchant=shop.merchant, percent=Decimal("50"), min_spend_minor=100_000, title="Big spender")

    purchase = event(user=UserFactory(), merchant=shop.merchant, kind="clearing", amount=20_000)

    codes = {d["title"]: d["code"] for d in purchase.decisions}
    assert codes == {shop.title: "earned", "Big spender": "below_minimum"}


def test_replaying_an_event_changes_nothing(shop):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000, event_id="evt_same")
    journals = JournalTransaction.objects.count()

    purchase = event(user=user, merchant=shop.merchant, kind="clearing", amount=99_999, event_id="evt_same")

    assert purchase.amount_minor == 20_000
    assert JournalTransaction.objects.count() == journals
    assert PurchaseEvent.objects.count() == 1


def test_bad_events_are_refused_before_any_write(shop):
    with pytest.raises(InvalidPurchaseEventError) as caught:
        event(user=UserFactory(), merchant=shop.merchant, kind="chargeback", amount=-1)
    assert set(caught.value.fields) == {"kind", "amount_minor"}
    assert Purchase.objects.count() == 0


# --- Refunds and reversals -----------------------------------------------------------------


def test_partial_refunds_reverse_in_proportion_and_return_the_budget(shop, announced):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)

    purchase = event(user=user, merchant=shop.merchant, kind="refund", amount=5_000, txn="rf_1", original="txn_1")

    assert purchase.status == "partly_refunded" and purchase.refunded_minor == 5_000
    assert reward_amounts(purchase) == {shop.pk: 1_500}
    reward = Reward.objects.get(purchase=purchase)
    assert reward.status == "partly_reversed"
    assert consumer_balances(user)["pending"] == 1_500
    shop.refresh_from_db()
    assert shop.budget_spent_minor == 1_500
    assert ("purchase_refunded", {"purchase_id": purchase.pk, "user_id": user.pk}) in announced
    assert any(fact == "reward_reversed" and f["amount_minor"] == 500 for fact, f in announced)


def test_a_refund_larger_than_what_is_left_is_capped_and_recorded(shop):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    event(user=user, merchant=shop.merchant, kind="refund", amount=15_000, txn="rf_1", original="txn_1")

    purchase = event(user=user, merchant=shop.merchant, kind="refund", amount=9_000, txn="rf_2", original="txn_1")

    assert purchase.status == "refunded"
    assert (purchase.refunded_minor, purchase.refund_excess_minor) == (20_000, 4_000)
    assert consumer_balances(user) == {"pending": 0, "available": 0, "receivable": 0}
    assert Reward.objects.get(purchase=purchase).status == "reversed"
    assert_ledger_sound()


def test_a_refund_of_a_refunded_purchase_changes_nothing(shop):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    event(user=user, merchant=shop.merchant, kind="refund", amount=20_000, txn="rf_1", original="txn_1")
    journals = JournalTransaction.objects.count()

    purchase = event(user=user, merchant=shop.merchant, kind="refund", amount=20_000, txn="rf_2", original="txn_1")

    assert purchase.status == "refunded" and purchase.refund_excess_minor == 20_000
    assert JournalTransaction.objects.count() == journals


def test_the_same_refund_in_two_events_counts_once(shop):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    event(user=user, merchant=shop.merchant, kind="refund", amount=5_000, txn="rf_1", original="txn_1")

    purchase = event(user=user, merchant=shop.merchant, kind="refund", amount=5_000, txn="rf_1", original="txn_1")

    assert purchase.refunded_minor == 5_000


def test_a_refund_without_its_original_id_is_matched_by_card_shop_amount_and_time(shop):
    user = UserFactory()
    location = LocationFactory(merchant=shop.merchant)
    at = timezone.now() - timedelta(days=2)
    event(user=user, merchant=shop.merchant, kind="clearing", amount=30_000, txn="txn_a", at=at, location=location)
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000, txn="txn_b", at=at, location=location)

    purchase = event(user=user, merchant=shop.merchant, kind="refund", amount=20_000, txn="rf_1", location=location)

    assert purchase.external_id == "txn_b" and purchase.status == "refunded"


def test_a_refund_with_no_original_and_no_match_is_unmatched(shop):
    with pytest.raises(RefundUnmatchedError):
        event(user=UserFactory(), merchant=shop.merchant, kind="refund", amount=5_000, txn="rf_9")
    assert Purchase.objects.count() == 0


def test_a_refund_before_its_purchase_waits_for_it(shop):
    user = UserFactory()

    purchase = event(user=user, merchant=shop.merchant, kind="refund", amount=5_000, txn="rf_1", original="txn_1")
    assert purchase.status == "awaiting" and reward_amounts(purchase) == {}

    purchase = event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    assert purchase.status == "partly_refunded"
    assert reward_amounts(purchase) == {shop.pk: 1_500}


def test_a_reversal_undoes_everything_and_returns_the_budget(shop):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="auth", amount=20_000)

    purchase = event(user=user, merchant=shop.merchant, kind="reversal", amount=20_000, txn="rv_1", original="txn_1")

    assert purchase.status == "reversed"
    assert consumer_balances(user)["pending"] == 0
    shop.refresh_from_db()
    assert shop.budget_spent_minor == 0
    assert_ledger_sound()


# --- Maturity and receivables ------------------------------------------------------------


def test_rewards_mature_after_the_return_period_once_the_purchase_cleared(shop, announced):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="auth", amount=20_000)
    later = timezone.now() + timedelta(days=15)

    assert services.rewards_mature_due(now=later) == 0  # only authorised

    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    assert services.rewards_mature_due(now=timezone.now()) == 0  # too early
    assert services.rewards_mature_due(now=later) == 1
    assert services.rewards_mature_due(now=later) == 0

    assert consumer_balances(user) == {"pending": 0, "available": 2_000, "receivable": 0}
    reward = Reward.objects.get()
    assert reward.status == "available" and reward.mature_journal.idempotency_key == f"reward:{reward.pk}:mature"
    assert (
        "reward_available",
        {
            "reward_id": reward.pk,
            "user_id": user.pk,
            "purchase_id": reward.purchase_id,
            "amount_minor": 2_000,
            "currency": "NOK",
        },
    ) in announced
    assert_ledger_sound()


def test_a_refund_after_maturity_takes_from_available_and_what_was_spent_becomes_a_receivable(shop):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    services.rewards_mature_due(now=timezone.now() + timedelta(days=15))
    spend(user, 1_500)  # 500 left

    event(user=user, merchant=shop.merchant, kind="refund", amount=20_000, txn="rf_1", original="txn_1")

    assert consumer_balances(user) == {"pending": 0, "available": 0, "receivable": -1_500}
    reward = Reward.objects.get()
    assert (reward.status, reward.owed_minor) == ("reversed", 1_500)
    assert merchant_balance(shop.merchant, AccountKind.MERCHANT_RECEIVABLE) == 0  # got all 2 000 back
    assert_ledger_sound()


def test_newly_available_cashback_pays_back_what_the_consumer_owes(shop):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000, txn="txn_1")
    services.rewards_mature_due(now=timezone.now() + timedelta(days=15))
    spend(user, 2_000)
    event(user=user, merchant=shop.merchant, kind="refund", amount=20_000, txn="rf_1", original="txn_1")
    assert consumer_balances(user)["receivable"] == -2_000

    event(user=user, merchant=shop.merchant, kind="clearing", amount=30_000, txn="txn_2")
    services.rewards_mature_due(now=timezone.now() + timedelta(days=15))

    assert consumer_balances(user) == {"pending": 0, "available": 1_000, "receivable": 0}
    assert_ledger_sound()


# --- Challenges ----------------------------------------------------------------------------


def test_challenge_bonus_once_when_crossed_and_back_if_a_refund_takes_the_consumer_under_it(shop):
    challenge = ChallengeFactory(offer=shop, target_type="revenue", target_value=30_000, bonus_minor=5_000)
    user = UserFactory()

    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000, txn="txn_1")
    assert not Reward.objects.filter(kind="challenge").exists()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=15_000, txn="txn_2")
    event(user=user, merchant=shop.merchant, kind="clearing", amount=15_000, txn="txn_3")

    bonus = Reward.objects.get(kind="challenge")
    assert (bonus.amount_minor, bonus.purchase.external_id) == (5_000, "txn_2")
    assert ChallengeProgress.objects.get(challenge=challenge, user=user).value == 50_000
    assert balance(user, AccountKind.CONSUMER_PENDING) == 2_000 + 1_500 + 1_500 + 5_000

    event(user=user, merchant=shop.merchant, kind="refund", amount=15_000, txn="rf_1", original="txn_2")
    bonus.refresh_from_db()
    assert bonus.amount_minor == 5_000  # 35 000 still reached

    event(user=user, merchant=shop.merchant, kind="refund", amount=15_000, txn="rf_2", original="txn_3")
    bonus.refresh_from_db()
    assert (bonus.amount_minor, bonus.status) == (0, "reversed")
    assert JournalTransaction.objects.filter(kind=JournalKind.CHALLENGE_BONUS).count() == 1
    assert_ledger_sound()


def test_a_matured_challenge_bonus_stays(shop):
    ChallengeFactory(offer=shop, target_type="purchase_count", target_value=1, bonus_minor=5_000)
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    services.rewards_mature_due(now=timezone.now() + timedelta(days=15))

    event(user=user, merchant=shop.merchant, kind="refund", amount=20_000, txn="rf_1", original="txn_1")

    bonus = Reward.objects.get(kind="challenge")
    assert (bonus.amount_minor, bonus.status) == (5_000, "available")
    assert consumer_balances(user)["available"] == 5_000


# --- Expiry --------------------------------------------------------------------------------


@override_settings(REWARD_EXPIRY_DAYS=30, REWARD_EXPIRY_WARNING_DAYS=7)
def test_unused_cashback_expires_to_breakage_oldest_first_after_a_warning(shop, django_capture_on_commit_callbacks):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000, txn="txn_1")
    matured = timezone.now() + timedelta(days=15)
    services.rewards_mature_due(now=matured)  # 2 000 available, credited now (entry time)
    spend(user, 500)  # uses the oldest credit first: 1 500 of it is unused

    with django_capture_on_commit_callbacks(execute=True):
        assert services.reward_expiry_warnings_send(now=timezone.now() + timedelta(days=20)) == 0
        assert services.reward_expiry_warnings_send(now=timezone.now() + timedelta(days=24)) == 1
        assert services.reward_expiry_warnings_send(now=timezone.now() + timedelta(days=25)) == 0  # told already
    (fact,) = Fact.objects.filter(kind="cashback_expiring")
    assert fact.payload["user_id"] == user.pk and fact.payload["amount_minor"] == 1_500
    (warning,) = Notification.objects.filter(user=user, kind="reward_expiry_warning")
    assert "NOK\xa015.00" in warning.title

    assert services.rewards_expire_due(now=timezone.now() + timedelta(days=29)) == 0
    assert services.rewards_expire_due(now=timezone.now() + timedelta(days=31)) == 1
    assert services.rewards_expire_due(now=timezone.now() + timedelta(days=32)) == 0

    assert consumer_balances(user)["available"] == 0
    reward = Reward.objects.get()
    assert (reward.expired_minor, reward.status) == (1_500, "expired")
    breakage = JournalTransaction.objects.get(kind=JournalKind.EXPIRY)
    assert breakage.entries.get(direction="credit").account.kind == AccountKind.BREAKAGE
    assert_ledger_sound()


def test_expiry_is_off_by_default(shop):
    user = UserFactory()
    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000)
    services.rewards_mature_due(now=timezone.now() + timedelta(days=15))

    assert services.rewards_expire_due(now=timezone.now() + timedelta(days=3_000)) == 0


# --- Monthly spend offers ------------------------------------------------------------------


def test_monthly_spend_offer_credits_a_percent_of_the_month_once_after_it_ends():
    start = timezone.make_aware(timezone.datetime(2026, 9, 1))
    offer = OfferFactory(
        percent=Decimal("5"), basis="monthly_spend", starts_at=start, ends_at=start + timedelta(days=90)
    )
    user, other = UserFactory(), UserFactory()
    october = timezone.make_aware(timezone.datetime(2026, 10, 10, 12))
    event(user=user, merchant=offer.merchant, kind="clearing", amount=20_000, txn="t1", at=october)
    event(user=user, merchant=offer.merchant, kind="clearing", amount=30_000, txn="t2", at=october)
    event(user=user, merchant=offer.merchant, kind="refund", amount=10_000, txn="r1", original="t2", at=october)
    event(user=other, merchant=offer.merchant, kind="clearing", amount=10_000, txn="t3", at=october)
    event(user=user, merchant=offer.merchant, kind="clearing", amount=99_000, txn="t4", at=october + timedelta(days=30))

    # No per-purchase reward from a monthly offer.
    assert not Reward.objects.filter(kind="offer").exists()
    nov_2 = timezone.make_aware(timezone.datetime(2026, 11, 2))
    assert services.monthly_rewards_credit(now=nov_2) == 2
    assert services.monthly_rewards_credit(now=nov_2) == 0

    rewards = {r.user_id: r for r in Reward.objects.filter(kind="monthly")}
    assert rewards[user.pk].amount_minor == 2_000  # 5 % of 40 000
    assert rewards[other.pk].amount_minor == 500
    assert JournalTransaction.objects.filter(idempotency_key=f"monthly:{offer.pk}:{user.pk}:2026-10:earn").exists()
    assert Offer.objects.get(pk=offer.pk).budget_spent_minor == 2_500


def test_a_blocked_person_earns_no_monthly_spend_reward():
    start = timezone.make_aware(timezone.datetime(2026, 9, 1))
    offer = OfferFactory(
        percent=Decimal("5"), basis="monthly_spend", starts_at=start, ends_at=start + timedelta(days=90)
    )
    user, blocked = UserFactory(), UserFactory()
    october = timezone.make_aware(timezone.datetime(2026, 10, 10, 12))
    event(user=user, merchant=offer.merchant, kind="clearing", amount=20_000, txn="b1", at=october)
    event(user=blocked, merchant=offer.merchant, kind="clearing", amount=20_000, txn="b2", at=october)
    user_block(user=blocked, actor=UserFactory(is_staff=True), reason="Fraud flag")

    assert services.monthly_rewards_credit(now=timezone.make_aware(timezone.datetime(2026, 11, 2))) == 1
    assert list(Reward.objects.filter(kind="monthly").values_list("user_id", flat=True)) == [user.pk]


def test_monthly_offer_waits_for_the_month_to_end():
    offer = OfferFactory(basis="monthly_spend")
    assert services.monthly_rewards_credit(month=timezone.localdate().replace(day=1)) == 0
    assert offer.rewards.count() == 0


# --- Portal: monthly spend offers, demo ----------------------------------------------------------


def test_a_monthly_spend_offer_must_be_a_percent_offer():
    from campaigns.errors import InvalidOfferError
    from tests.campaigns.factories import MerchantFactory

    values = {
        "title": "Monthly",
        "reward_type": "fixed",
        "fixed_amount_minor": 1_000,
        "basis": "monthly_spend",
        "currency": "NOK",
        "starts_at": timezone.now(),
        "ends_at": timezone.now() + timedelta(days=30),
    }
    with pytest.raises(InvalidOfferError) as caught:
        services.offer_create(merchant=MerchantFactory(), actor=None, values=values)
    assert "basis" in caught.value.fields

    offer = services.offer_create(
        merchant=MerchantFactory(),
        actor=None,
        values={**values, "reward_type": "percent", "percent": Decimal("5"), "fixed_amount_minor": 0},
    )
    assert offer.basis == "monthly_spend"


def test_the_demo_consumer_earns_at_once_and_seeding_again_changes_nothing():
    from django.contrib.auth import get_user_model

    from campaigns.demo import DEMO_TIER_HISTORY
    from cashback.demo import seed_demo_data

    seed_demo_data()
    user = get_user_model().objects.get(email="consumer@demo.cashback.example")
    journals = JournalTransaction.objects.count()
    pending = consumer_balances(user)["pending"]

    seed_demo_data()

    assert pending > 0
    assert JournalTransaction.objects.count() == journals
    history = len(DEMO_TIER_HISTORY)  # the earlier year that gives the demo consumer a tier
    assert Purchase.objects.filter(user=user, source="demo").count() == 3 + history
    merchant = Purchase.objects.filter(user=user).first().merchant
    assert merchant_balance(merchant, AccountKind.MERCHANT_FUNDING) > 0
    assert Offer.objects.filter(merchant=merchant, status="live", basis="monthly_spend").exists()
    assert_ledger_sound()
