"""Services: the offer status machine, optimistic locking, duplicates, budgets, rewards, tiers, cost preview."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.errors import (
    IllegalTransitionError,
    InvalidChallengeError,
    InvalidOfferError,
    OfferConflictError,
    OfferNotEditableError,
)
from campaigns.models import Offer, OfferStatus, OfferStatusChange, Purchase, Reward
from campaigns.selectors import offer_terms
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import (
    ChallengeFactory,
    LineItemRuleFactory,
    LocationFactory,
    MerchantFactory,
    OfferFactory,
    PurchaseFactory,
    TierFactory,
)
from tests.campaigns.lifecycle_helpers import clear, event

pytestmark = pytest.mark.django_db


def offer_values(**overrides):
    now = timezone.now()
    values = {
        "title": "10 % on coffee",
        "description": "",
        "reward_type": "percent",
        "percent": Decimal("10"),
        "fixed_amount_minor": 0,
        "charity_ref": "",
        "currency": "NOK",
        "starts_at": now + timedelta(days=1),
        "ends_at": now + timedelta(days=31),
        "min_spend_minor": 0,
        "max_reward_per_purchase_minor": None,
        "max_rewards_per_customer": None,
        "budget_total_minor": 100_000,
        "days_of_week": [],
        "hour_from": None,
        "hour_to": None,
        "audience": "everyone",
        "min_tier": None,
        "segment": {},
        "return_period_days": 30,
        "stackable": False,
    }
    values.update(overrides)
    return values


# --- Create and update ---------------------------------------------------------------------


def test_create_makes_a_draft_with_history():
    merchant, user = MerchantFactory(), UserFactory()
    location = LocationFactory(merchant=merchant)

    offer = services.offer_create(merchant=merchant, actor=user, values=offer_values(), locations=[location])

    assert offer.status == OfferStatus.DRAFT
    assert offer.version == 1
    assert list(offer.locations.all()) == [location]
    assert list(offer.status_changes.values_list("from_status", "to_status")) == [("", "draft")]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": lambda: timezone.now()}, "ends_at"),
        ({"percent": Decimal("100.01")}, "percent"),
        ({"percent": Decimal("-1")}, "percent"),
        ({"min_spend_minor": -1}, "min_spend_minor"),
        ({"budget_total_minor": -5}, "budget_total_minor"),
        ({"reward_type": "fixed", "fixed_amount_minor": -100}, "fixed_amount_minor"),
        ({"audience": "tier"}, "min_tier"),
        ({"audience": "segment"}, "segment"),
        ({"hour_from": 25}, "hour_from"),
    ],
)
def test_create_refuses_invalid_values_and_saves_nothing(overrides, field):
    overrides = {name: value() if callable(value) else value for name, value in overrides.items()}
    with pytest.raises(InvalidOfferError) as caught:
        services.offer_create(merchant=MerchantFactory(), actor=None, values=offer_values(**overrides))

    assert field in caught.value.fields
    assert not Offer.objects.exists()


def test_create_refuses_another_merchants_location():
    with pytest.raises(InvalidOfferError):
        services.offer_create(
            merchant=MerchantFactory(), actor=None, values=offer_values(), locations=[LocationFactory()]
        )
    assert not Offer.objects.exists()


def test_update_with_the_loaded_version_saves_and_bumps_it():
    offer = OfferFactory(status=OfferStatus.DRAFT)

    updated = services.offer_update(
        offer_id=offer.pk, expected_version=1, actor=None, values=offer_values(title="New title")
    )

    assert updated.title == "New title"
    assert updated.version == 2


def test_second_editor_on_a_stale_version_gets_a_conflict_and_nothing_is_saved():
    offer = OfferFactory(status=OfferStatus.DRAFT, title="Original")
    first, second = UserFactory(), UserFactory()
    services.offer_update(offer_id=offer.pk, expected_version=1, actor=first, values=offer_values(title="First's"))

    with pytest.raises(OfferConflictError) as caught:
        services.offer_update(
            offer_id=offer.pk, expected_version=1, actor=second, values=offer_values(title="Second's", percent=5)
        )

    offer.refresh_from_db()
    assert offer.title == "First's"
    assert offer.percent == Decimal("10")
    assert "Someone else changed this offer" in caught.value.message


def test_a_live_offer_must_be_paused_before_editing():
    offer = OfferFactory(status=OfferStatus.LIVE)

    with pytest.raises(OfferNotEditableError, match="Pause it first"):
        services.offer_update(offer_id=offer.pk, expected_version=1, actor=None, values=offer_values())


def test_editing_a_paused_offer_sends_it_back_to_review_as_a_draft():
    offer = OfferFactory(status=OfferStatus.PAUSED)

    updated = services.offer_update(offer_id=offer.pk, expected_version=1, actor=None, values=offer_values())

    assert updated.status == OfferStatus.DRAFT
    assert updated.status_changes.first().reason == "Edited: needs review again."


def test_budget_cannot_be_lowered_below_what_was_paid():
    offer = OfferFactory(status=OfferStatus.PAUSED, budget_total_minor=10_000, budget_spent_minor=6_000)

    with pytest.raises(InvalidOfferError) as caught:
        services.offer_update(
            offer_id=offer.pk, expected_version=1, actor=None, values=offer_values(budget_total_minor=5_000)
        )
    assert "budget_total_minor" in caught.value.fields


def test_duplicate_is_a_draft_copy_with_challenges_rules_and_locations_and_an_unspent_budget():
    location = LocationFactory()
    offer = OfferFactory(merchant=location.merchant, budget_total_minor=50_000, budget_spent_minor=20_000)
    offer.locations.add(location)
    ChallengeFactory(offer=offer)
    LineItemRuleFactory(offer=offer, key="coffee")

    copy = services.offer_duplicate(offer_id=offer.pk, actor=None)

    assert copy.pk != offer.pk
    assert copy.title == f"Copy of {offer.title}"
    assert copy.status == OfferStatus.DRAFT
    assert copy.budget_spent_minor == 0 and copy.budget_total_minor == 50_000
    assert list(copy.locations.all()) == [location]
    assert copy.challenges.count() == 1
    assert list(copy.line_item_rules.values_list("key", flat=True)) == ["coffee"]


def test_duplicating_an_ended_offer_moves_its_period_to_tomorrow():
    start = timezone.now() - timedelta(days=60)
    offer = OfferFactory(status=OfferStatus.ENDED, starts_at=start, ends_at=start + timedelta(days=14))

    copy = services.offer_duplicate(offer_id=offer.pk, actor=None)

    assert copy.starts_at > timezone.now()
    assert copy.ends_at - copy.starts_at == timedelta(days=14)


# --- Status machine ----------------------------------------------------------------------------


def test_happy_path_draft_to_live_to_ended():
    user, staff = UserFactory(), UserFactory()
    offer = OfferFactory(status=OfferStatus.DRAFT, starts_at=timezone.now() + timedelta(hours=1))

    services.offer_submit_for_review(offer_id=offer.pk, actor=user)
    services.offer_approve(offer_id=offer.pk, actor=staff)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SCHEDULED

    assert services.offer_activate_due(now=offer.starts_at) == 1
    assert services.offer_activate_due(now=offer.starts_at) == 0  # twice changes nothing
    assert services.offer_end_due(now=offer.ends_at) == 1
    assert services.offer_end_due(now=offer.ends_at) == 0
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ENDED
    history = list(offer.status_changes.order_by("id").values_list("to_status", flat=True))
    assert history == ["in_review", "scheduled", "live", "ended"]


def test_approving_an_offer_whose_start_has_come_makes_it_live():
    offer = OfferFactory(status=OfferStatus.IN_REVIEW)

    assert services.offer_approve(offer_id=offer.pk, actor=None).status == OfferStatus.LIVE


def test_reject_needs_a_reason_and_returns_to_draft():
    offer = OfferFactory(status=OfferStatus.IN_REVIEW)

    with pytest.raises(InvalidOfferError):
        services.offer_reject(offer_id=offer.pk, actor=None, reason="  ")
    rejected = services.offer_reject(offer_id=offer.pk, actor=None, reason="The title promises more than 10 %.")

    assert rejected.status == OfferStatus.DRAFT
    assert rejected.status_changes.first().reason == "The title promises more than 10 %."


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (OfferStatus.DRAFT, "offer_approve"),
        (OfferStatus.DRAFT, "offer_pause"),
        (OfferStatus.DRAFT, "offer_resume"),
        (OfferStatus.IN_REVIEW, "offer_submit_for_review"),
        (OfferStatus.IN_REVIEW, "offer_pause"),
        (OfferStatus.LIVE, "offer_submit_for_review"),
        (OfferStatus.LIVE, "offer_approve"),
        (OfferStatus.LIVE, "offer_resume"),
        (OfferStatus.PAUSED, "offer_pause"),
        (OfferStatus.ENDED, "offer_resume"),
        (OfferStatus.ENDED, "offer_pause"),
        (OfferStatus.ENDED, "offer_submit_for_review"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(status, action):
    offer = OfferFactory(status=status)

    with pytest.raises(IllegalTransitionError):
        getattr(services, action)(offer_id=offer.pk, actor=None)

    offer.refresh_from_db()
    assert offer.status == status
    assert offer.version == 1
    assert not OfferStatusChange.objects.filter(offer=offer).exists()


def test_pause_and_resume():
    offer = OfferFactory(status=OfferStatus.LIVE)

    assert services.offer_pause(offer_id=offer.pk, actor=None).status == OfferStatus.PAUSED
    assert services.offer_resume(offer_id=offer.pk, actor=None).status == OfferStatus.LIVE
    assert services.offer_pause(offer_id=offer.pk, actor=None).version == 4


def test_resume_after_the_end_ends_it_and_before_the_start_schedules_it():
    ended = OfferFactory(status=OfferStatus.PAUSED)
    future = OfferFactory(status=OfferStatus.PAUSED, starts_at=timezone.now() + timedelta(days=2))

    assert services.offer_resume(offer_id=ended.pk, actor=None, now=ended.ends_at).status == OfferStatus.ENDED
    assert services.offer_resume(offer_id=future.pk, actor=None).status == OfferStatus.SCHEDULED


def test_a_status_change_makes_an_open_edit_form_stale():
    offer = OfferFactory(status=OfferStatus.SCHEDULED)
    services.offer_pause(offer_id=offer.pk, actor=None)

    with pytest.raises(OfferConflictError):
        services.offer_update(offer_id=offer.pk, expected_version=1, actor=None, values=offer_values())


def test_status_history_is_append_only():
    offer = OfferFactory(status=OfferStatus.LIVE)
    change = services.offer_pause(offer_id=offer.pk, actor=None).status_changes.first()

    with pytest.raises(ValueError, match="append-only"):
        change.save()


# --- Budget ----------------------------------------------------------------------------------


def test_budget_grants_what_is_left_then_nothing():
    offer = OfferFactory(budget_total_minor=1_000)

    assert services.offer_budget_consume(offer_id=offer.pk, amount_minor=600) == 600
    assert services.offer_budget_consume(offer_id=offer.pk, amount_minor=600) == 400
    assert services.offer_budget_consume(offer_id=offer.pk, amount_minor=600) == 0
    offer.refresh_from_db()
    assert offer.budget_spent_minor == 1_000


def test_unlimited_budget_grants_everything_and_counts_it():
    offer = OfferFactory(budget_total_minor=None)

    assert services.offer_budget_consume(offer_id=offer.pk, amount_minor=10**9) == 10**9
    offer.refresh_from_db()
    assert offer.budget_spent_minor == 10**9


def test_negative_consumption_is_refused():
    with pytest.raises(InvalidOfferError):
        services.offer_budget_consume(offer_id=OfferFactory().pk, amount_minor=-1)


# --- Rewards -------------------------------------------------------------------------------


def test_a_clearing_records_the_best_offer_within_budget_once():
    merchant = MerchantFactory()
    best = OfferFactory(merchant=merchant, percent=Decimal("10"), budget_total_minor=1_500)
    OfferFactory(merchant=merchant, percent=Decimal("5"))
    OfferFactory(percent=Decimal("50"))  # another merchant's offer is never considered
    purchase = PurchaseFactory(merchant=merchant, amount_minor=20_000, occurred_at=timezone.now())

    rewards = clear(purchase)
    again = clear(purchase)

    assert [(r.offer_id, r.amount_minor) for r in rewards] == [(best.pk, 1_500)]
    assert again == []
    assert Reward.objects.count() == 1


def test_no_rewards_at_a_suspended_merchant():
    merchant = MerchantFactory(status="suspended")
    OfferFactory(merchant=merchant)

    assert clear(PurchaseFactory(merchant=merchant, occurred_at=timezone.now())) == []


def test_per_customer_cap_counts_earlier_rewards():
    offer = OfferFactory(max_rewards_per_customer=1)
    user = UserFactory()
    first = PurchaseFactory(merchant=offer.merchant, user=user, occurred_at=timezone.now())
    second = PurchaseFactory(merchant=offer.merchant, user=user, occurred_at=timezone.now())

    assert len(clear(first)) == 1
    assert clear(second) == []


# --- Challenges ----------------------------------------------------------------------------


def test_a_challenge_needs_an_offer():
    with pytest.raises(InvalidChallengeError) as caught:
        services.challenge_save(
            offer=None, values={"title": "x", "target_type": "revenue", "target_value": 1, "bonus_minor": 1}
        )
    assert "offer" in caught.value.fields


def test_challenge_target_and_bonus_must_be_positive():
    with pytest.raises(InvalidChallengeError) as caught:
        services.challenge_save(
            offer=OfferFactory(), values={"title": "x", "target_type": "revenue", "target_value": 0, "bonus_minor": -1}
        )
    assert set(caught.value.fields) == {"target_value", "bonus_minor"}


# --- Tiers ---------------------------------------------------------------------------------


def test_tier_recompute_picks_the_highest_tier_reached():
    silver = TierFactory(rank=1, name="Silver", threshold_minor=100_000)
    TierFactory(rank=2, name="Gold", threshold_minor=500_000)
    user = UserFactory()
    PurchaseFactory(user=user, amount_minor=150_000)
    PurchaseFactory(user=user, amount_minor=900_000, status=Purchase.Status.REFUNDED)  # does not count
    PurchaseFactory(user=user, amount_minor=900_000, occurred_at=timezone.now() - timedelta(days=400))  # too old

    row = services.tier_recompute(user=user)

    assert row.tier == silver
    assert row.spend_12m_minor == 150_000


def test_tier_by_earned_cashback():
    TierFactory(rank=1, basis="earned_cashback", threshold_minor=1_000)
    user = UserFactory()
    offer = OfferFactory()
    purchase = PurchaseFactory(user=user, merchant=offer.merchant, occurred_at=timezone.now())
    assert services.tier_recompute(user=user).tier is None

    clear(purchase)  # 10 % of 200 kr = 20 kr = 2 000 øre

    assert services.tier_recompute(user=user).tier.rank == 1


def test_recording_a_purchase_recomputes_the_tier_after_commit(django_capture_on_commit_callbacks):
    TierFactory(rank=1, threshold_minor=10_000)
    user = UserFactory()
    merchant = MerchantFactory()

    with django_capture_on_commit_callbacks(execute=True):
        event(user=user, merchant=merchant, kind="clearing", amount=10_000, txn="txn_1")

    assert user.customer_tier.tier.rank == 1
    with django_capture_on_commit_callbacks(execute=True):
        # Refunded in full: the purchase's status (derived from its events) no longer counts.
        event(user=user, merchant=merchant, kind="refund", amount=10_000, txn="refund_1", original="txn_1")
    user.customer_tier.refresh_from_db()
    assert user.customer_tier.tier is None
    assert Purchase.objects.get().status == Purchase.Status.REFUNDED
    assert Purchase.objects.count() == 1


# --- Cost preview --------------------------------------------------------------------------


def test_cost_preview_without_history_is_none():
    offer = OfferFactory()

    assert services.cost_preview(terms=offer_terms(offer), merchant_id=offer.merchant_id) is None


def test_cost_preview_scales_the_history_to_a_month():
    offer = OfferFactory(percent=Decimal("10"), min_spend_minor=10_000, budget_total_minor=100_000)
    now = timezone.now()
    for days_ago in range(90):
        PurchaseFactory(merchant=offer.merchant, amount_minor=20_000, occurred_at=now - timedelta(days=days_ago))
    PurchaseFactory(merchant=offer.merchant, amount_minor=5_000, occurred_at=now)  # below the minimum
    PurchaseFactory(merchant=offer.merchant, amount_minor=90_000, occurred_at=now - timedelta(days=200))  # too old
    PurchaseFactory(merchant=offer.merchant, amount_minor=90_000, status=Purchase.Status.REFUNDED, occurred_at=now)

    estimate = services.cost_preview(terms=offer_terms(offer), merchant_id=offer.merchant_id, now=now)

    assert estimate.purchases_considered == 91
    assert estimate.purchases_rewarded == 90
    assert estimate.customers_rewarded == 90
    # 90 purchases x 2 000 øre over 90 days → 2 000 a day → 60 875 øre in an average month.
    assert estimate.monthly_cost_minor == 60_875
    assert estimate.budget_months == Decimal("1.6")
    assert estimate.share_rewarded == 99
