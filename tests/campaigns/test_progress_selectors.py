"""Challenge progress and the tier card as the consumer sees them (campaigns.progress_selectors,
campaigns.tier_selectors): the maths, days left, reached/paid/expired, the next tier's need and its
deadline, the top tier and no tiers — through purchase events, the way progress really moves."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import User
from campaigns import services
from campaigns.amount_words import amount_words
from campaigns.models import OfferStatus, Purchase
from campaigns.progress_selectors import ChallengeProgressView, ChallengeStatus, challenge_progress_of, days_left
from campaigns.tier_selectors import TIER_WINDOW, tier_standing
from cashback.demo import seed_demo_data
from merchants.models import Merchant
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import ChallengeFactory, OfferFactory, PurchaseFactory, TierFactory
from tests.campaigns.lifecycle_helpers import event

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def _text(value: str) -> str:
    return value.replace(NBSP, " ")


def _one(user, **kwargs):
    (view,) = challenge_progress_of(user=user, **kwargs)
    return view


# --- Challenges ----------------------------------------------------------------------------------


def test_revenue_progress_counts_purchases_net_of_refunds_with_days_left_and_the_bonus():
    now = timezone.now()
    offer = OfferFactory(starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=11, hours=20))
    ChallengeFactory(offer=offer, target_type="revenue", target_value=100_000, bonus_minor=5_000)
    user = UserFactory()
    event(user=user, merchant=offer.merchant, kind="clearing", amount=40_000, txn="a")
    event(user=user, merchant=offer.merchant, kind="clearing", amount=35_000, txn="b")
    event(user=user, merchant=offer.merchant, kind="refund", amount=10_000, txn="b-r", original="b")

    view = _one(user, now=now)

    assert (view.progress, view.target, view.remaining, view.percent) == (65_000, 100_000, 35_000, 65)
    assert (view.status, view.days_left) == (ChallengeStatus.RUNNING, 12)
    assert _text(view.summary) == "650 of 1 000 kr spent, 12 days left"
    assert _text(view.bonus_text) == "Pays a 50 kr bonus"
    assert (view.merchant_name, view.offer_title) == (offer.merchant.display_name, offer.title)


def test_a_live_challenge_shows_with_no_progress_yet_and_purchase_counts_read_as_purchases():
    offer = OfferFactory()
    ChallengeFactory(offer=offer, target_type="purchase_count", target_value=10, bonus_minor=5_000)

    view = _one(UserFactory())

    assert (view.progress, view.percent, view.status) == (0, 0, ChallengeStatus.RUNNING)
    assert view.progress_text == "0 of 10 purchases"


def test_reached_then_paid_once_the_bonus_matured():
    offer = OfferFactory(return_period_days=14)
    ChallengeFactory(offer=offer, target_type="purchase_count", target_value=2, bonus_minor=5_000)
    user = UserFactory()
    event(user=user, merchant=offer.merchant, kind="clearing", amount=20_000, txn="a")
    event(user=user, merchant=offer.merchant, kind="clearing", amount=20_000, txn="b")

    reached = _one(user)
    assert (reached.status, reached.percent) == (ChallengeStatus.REACHED, 100)
    assert reached.progress_text == "2 of 2 purchases"

    services.rewards_mature_due(now=timezone.now() + timedelta(days=15))
    assert _one(user).status == ChallengeStatus.PAID


def test_an_ended_challenge_short_of_its_target_is_expired_and_comes_after_running_ones():
    now = timezone.now()
    past = OfferFactory(starts_at=now - timedelta(days=40), ends_at=now - timedelta(days=10), title="Summer")
    ChallengeFactory(offer=past, target_type="revenue", target_value=100_000)
    user = UserFactory()
    event(user=user, merchant=past.merchant, kind="clearing", amount=30_000, at=now - timedelta(days=20))
    past.status = OfferStatus.ENDED
    past.save(update_fields=["status"])
    running = ChallengeFactory(offer=OfferFactory(title="Winter"))

    views = challenge_progress_of(user=user, now=now)

    assert [view.offer_title for view in views] == ["Winter", "Summer"]
    expired = views[1]
    assert (expired.status, expired.days_left, expired.progress, expired.days_left_text) == (
        ChallengeStatus.EXPIRED,
        None,
        30_000,
        "Ended",
    )
    assert views[0].challenge_id == running.pk


def test_only_live_challenges_at_approved_merchants_and_only_the_callers_own_progress():
    now = timezone.now()
    mine = ChallengeFactory(offer=OfferFactory())
    ChallengeFactory(offer=OfferFactory(status=OfferStatus.DRAFT))
    ChallengeFactory(offer=OfferFactory(status=OfferStatus.SCHEDULED, starts_at=now + timedelta(days=2)))
    ChallengeFactory(offer=OfferFactory(ends_at=now - timedelta(minutes=1), starts_at=now - timedelta(days=3)))
    suspended = OfferFactory()
    Merchant.objects.filter(pk=suspended.merchant_id).update(status="suspended", status_reason="Fraud")
    ChallengeFactory(offer=suspended)
    user, other = UserFactory(), UserFactory()
    event(user=other, merchant=mine.offer.merchant, kind="clearing", amount=90_000)

    (view,) = challenge_progress_of(user=user, now=now)

    assert (view.challenge_id, view.progress) == (mine.pk, 0)
    assert _one(other, now=now).progress == 90_000


def test_progress_of_many_challenges_takes_one_query():
    user = UserFactory()
    for _ in range(12):
        offer = OfferFactory()
        ChallengeFactory(offer=offer)
        event(user=user, merchant=offer.merchant, kind="clearing", amount=10_000, txn=f"t{offer.pk}")

    with CaptureQueriesContext(connection) as queries:
        views = challenge_progress_of(user=user)
        [(view.summary, view.bonus_text, view.merchant_name) for view in views]

    assert len(views) == 12
    assert len(queries) == 1


def test_challenges_of_chosen_offers_only():
    first, second = ChallengeFactory(), ChallengeFactory()

    views = challenge_progress_of(user=UserFactory(), offer_ids=[second.offer_id])

    assert [view.challenge_id for view in views] == [second.pk]
    assert first.pk not in [view.challenge_id for view in views]


@given(
    hours=st.integers(min_value=-48, max_value=24 * 400),
    minutes=st.integers(min_value=0, max_value=59),
)
@settings(max_examples=200, deadline=None)
def test_days_left_rounds_up_and_never_goes_below_zero(hours, minutes):
    now = timezone.now()
    ends = now + timedelta(hours=hours, minutes=minutes)

    left = days_left(ends_at=ends, now=now)

    if ends <= now:
        assert left == 0
    else:
        assert left >= 1
        assert timedelta(days=left - 1) < ends - now <= timedelta(days=left)


@given(target=st.integers(min_value=1, max_value=10**9), progress=st.integers(min_value=0, max_value=2 * 10**9))
@settings(max_examples=200, deadline=None)
def test_percent_is_within_0_and_100_and_reaches_100_exactly_at_the_target(target, progress):
    now = timezone.now()
    view = ChallengeProgressView(
        challenge_id=1,
        title="t",
        offer_id=1,
        offer_title="o",
        merchant_id=1,
        merchant_name="m",
        target_type="revenue",
        target=target,
        progress=progress,
        currency="NOK",
        bonus_minor=100,
        starts_at=now,
        ends_at=now,
        status=ChallengeStatus.RUNNING,
        days_left=1,
    )

    assert 0 <= view.percent <= 100
    assert (view.percent == 100) == (progress >= target)
    assert view.remaining == max(0, target - progress)


def test_amounts_in_words_group_thousands_and_drop_whole_decimals():
    assert _text(amount_words(123_456_700, "NOK")) == "1 234 567 kr"
    assert _text(amount_words(1_250, "EUR")) == "12.50 EUR"
    assert _text(amount_words(-100_000, "SEK")) == "-1 000 kr"


# --- Tiers ---------------------------------------------------------------------------------------


def _spent(user, amount, *, days_ago):
    return PurchaseFactory(
        user=user, amount_minor=amount, occurred_at=timezone.now() - timedelta(days=days_ago), status="cleared"
    )


def test_the_next_tier_needs_what_is_missing_before_the_oldest_purchase_leaves_the_window():
    silver = TierFactory(rank=1, name="Silver", threshold_minor=500_000, multiplier=Decimal("1.25"))
    TierFactory(rank=2, name="Gold", threshold_minor=2_000_000, multiplier=Decimal("1.50"))
    user = UserFactory()
    oldest = _spent(user, 400_000, days_ago=300)
    _spent(user, 300_000, days_ago=10)
    _spent(user, 999_999, days_ago=400)  # outside the 12 months: never counts
    services.tier_recompute(user=user)

    standing = tier_standing(user=user)

    assert (standing.tier, standing.multiplier, standing.next_tier.name) == (silver, Decimal("1.25"), "Gold")
    assert (standing.next_progress_minor, standing.next_need_minor, standing.next_percent) == (700_000, 1_300_000, 35)
    assert standing.next_deadline == oldest.occurred_at + TIER_WINDOW
    deadline = timezone.localtime(standing.next_deadline)
    expected = f"Spend 13 000 kr more before {deadline.day} {deadline:%B %Y} to reach Gold."
    assert _text(standing.next_need_text) == expected
    assert (standing.multiplier_text, standing.next_multiplier_text) == ("\u00d71.25", "\u00d71.5")
    assert not standing.is_top


def test_below_the_first_tier_the_need_is_the_whole_threshold_within_12_months():
    TierFactory(rank=1, name="Silver", threshold_minor=500_000)
    user = UserFactory()

    standing = tier_standing(user=user)

    assert (standing.tier, standing.multiplier, standing.next_need_minor) == (None, Decimal(1), 500_000)
    assert standing.next_deadline is None
    assert _text(standing.next_need_text) == "Spend 5 000 kr more within 12 months to reach Silver."


def test_refunded_and_reversed_purchases_do_not_count_towards_the_next_tier():
    TierFactory(rank=1, name="Silver", threshold_minor=500_000)
    user = UserFactory()
    _spent(user, 100_000, days_ago=5)
    PurchaseFactory(user=user, amount_minor=200_000, status=Purchase.Status.REFUNDED, refunded_minor=200_000)

    assert tier_standing(user=user).next_progress_minor == 100_000


def test_an_earned_cashback_tier_counts_rewards_and_says_earn():
    TierFactory(rank=1, name="Saver", basis="earned_cashback", threshold_minor=50_000)
    offer = OfferFactory(percent=Decimal("10"))
    user = UserFactory()
    event(user=user, merchant=offer.merchant, kind="clearing", amount=100_000)

    standing = tier_standing(user=user)

    assert standing.next_need_minor == 40_000
    assert _text(standing.next_need_text).startswith("Earn 400 kr cashback more before ")


def test_the_top_tier_says_so():
    TierFactory(rank=1, threshold_minor=100_000)
    top = TierFactory(rank=2, name="Gold", threshold_minor=200_000, multiplier=Decimal("2.00"))
    user = UserFactory()
    _spent(user, 250_000, days_ago=3)
    services.tier_recompute(user=user)

    standing = tier_standing(user=user)

    assert (standing.tier, standing.is_top, standing.next_tier, standing.next_need_text) == (top, True, None, "")
    assert standing.multiplier_text == "\u00d72"


def test_no_tiers_configured():
    standing = tier_standing(user=UserFactory())

    assert (standing.tiers_configured, standing.tier, standing.next_tier, standing.is_top) == (False, None, None, False)


def test_a_tier_already_reached_but_not_yet_recomputed_says_it_applies_next():
    TierFactory(rank=1, name="Silver", threshold_minor=100_000)
    user = UserFactory()
    _spent(user, 150_000, days_ago=1)  # no recomputation ran for it (made in the test, not by an event)

    standing = tier_standing(user=user)

    assert standing.next_need_minor == 0
    assert standing.next_need_text == "You have reached Silver: it applies from your next purchase."


def test_tier_standing_takes_at_most_three_queries():
    TierFactory(rank=1)
    TierFactory(rank=2, threshold_minor=900_000)
    user = UserFactory()
    _spent(user, 150_000, days_ago=1)
    services.tier_recompute(user=user)

    with CaptureQueriesContext(connection) as queries:
        text = tier_standing(user=user).next_need_text

    assert text.startswith("Spend ")
    assert len(queries) <= 3


def test_the_demo_consumer_has_a_challenge_in_progress_and_a_tier_with_a_next_one():
    seed_demo_data()
    user = User.objects.get(email="consumer@demo.cashback.example")

    views = challenge_progress_of(user=user)
    standing = tier_standing(user=user)

    running = [view for view in views if view.status == ChallengeStatus.RUNNING and 0 < view.percent < 100]
    assert {view.target_type for view in running} == {"revenue", "purchase_count"}
    assert (standing.tier.name, standing.next_tier.name) == ("Silver", "Gold")
    assert standing.next_need_minor > 0 and standing.next_deadline is not None
