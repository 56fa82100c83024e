"""Staff decisions on a flag (hold, clear, escalate) and what they do to the rewards' maturity; the
every-minute scan and the nightly sweep."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import StaffAuditEntry
from campaigns import services as campaign_services
from campaigns.models import Reward
from monitoring import services
from monitoring.models import FraudFlag, ScanCursor
from tests.accounts.factories import CardFactory, StaffUserFactory
from tests.campaigns.factories import OfferFactory

from .helpers import card_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicate_flag():
    """Two equal purchases minutes apart, each earning a pending reward, and the flag on the second."""
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    card = CardFactory()
    at = timezone.now() - timedelta(hours=2)
    card_purchase(card=card, merchant=offer.merchant, amount=9_900, at=at)
    second = card_purchase(card=card, merchant=offer.merchant, amount=9_900, at=at + timedelta(minutes=2))
    services.purchase_check(purchase_id=second.pk)
    return FraudFlag.objects.get(rule="near_duplicate")


def matured(purchase_id: int) -> bool:
    return Reward.objects.get(purchase_id=purchase_id).matured_at is not None


def test_a_held_flag_keeps_its_rewards_from_maturing_until_it_is_cleared(duplicate_flag):
    staff = StaffUserFactory()
    later = timezone.now() + timedelta(days=15)

    assert services.flag_hold(flag=duplicate_flag, actor=staff, reason="Looks doubled") == 1
    assert campaign_services.rewards_mature_due(now=later) == 1  # the other purchase's reward only
    assert not matured(duplicate_flag.purchase_id)
    assert (
        campaign_services.reward_mature(
            reward_id=Reward.objects.get(purchase_id=duplicate_flag.purchase_id).pk, now=later
        )
        is False
    )

    assert services.flag_clear(flag=duplicate_flag, actor=staff, reason="Two coffees") == 1
    assert campaign_services.rewards_mature_due(now=later) == 1
    assert matured(duplicate_flag.purchase_id)

    duplicate_flag.refresh_from_db()
    assert (duplicate_flag.status, duplicate_flag.decided_by, duplicate_flag.decision_reason) == (
        "cleared",
        staff,
        "Two coffees",
    )
    entries = list(
        StaffAuditEntry.objects.filter(target_type="monitoring.fraudflag", target_id=str(duplicate_flag.pk)).order_by(
            "id"
        )
    )
    assert [e.action for e in entries] == ["flag.hold", "flag.clear"]
    assert entries[0].before == {"status": "open"} and entries[0].after["rewards_held"] == 1
    assert entries[1].after == {"status": "cleared", "holds_released": 1, "reason": "Two coffees"}


def test_escalating_holds_the_rewards_and_names_the_person(duplicate_flag):
    staff = StaffUserFactory()
    assert services.flag_escalate(flag=duplicate_flag, actor=staff, reason="Card testing") is True
    duplicate_flag.user.refresh_from_db()
    assert duplicate_flag.user.blocked_at is not None  # escalation blocks the person (accounts.blocking)
    assert StaffAuditEntry.objects.filter(action="user.block", target_id=str(duplicate_flag.user_id)).exists()
    # The person is blocked now, so none of their pending rewards matures (held or not).
    assert campaign_services.rewards_mature_due(now=timezone.now() + timedelta(days=15)) == 0
    assert not matured(duplicate_flag.purchase_id)
    entry = StaffAuditEntry.objects.get(action="flag.escalate")
    assert entry.after["user_id"] == duplicate_flag.user_id and entry.after["status"] == "escalated"


def test_decided_flags_cannot_be_decided_again(duplicate_flag):
    staff = StaffUserFactory()
    services.flag_clear(flag=duplicate_flag, actor=staff, reason="Fine")
    for decide in (services.flag_hold, services.flag_clear, services.flag_escalate):
        with pytest.raises(services.FlagDecisionError):
            decide(flag=duplicate_flag, actor=staff, reason="Again")
    assert StaffAuditEntry.objects.filter(target_type="monitoring.fraudflag").count() == 1


def test_a_held_flag_can_be_escalated_but_not_held_again(duplicate_flag):
    staff = StaffUserFactory()
    services.flag_hold(flag=duplicate_flag, actor=staff, reason="Wait")
    with pytest.raises(services.FlagDecisionError):
        services.flag_hold(flag=duplicate_flag, actor=staff, reason="Again")
    services.flag_escalate(flag=duplicate_flag, actor=staff, reason="Confirmed")
    duplicate_flag.refresh_from_db()
    assert duplicate_flag.status == "escalated"


def test_the_scan_looks_at_what_changed_since_its_cursor_and_moves_on(settings):
    settings.MONITORING_RULES = {
        **settings.MONITORING_RULES,
        "velocity": {**settings.MONITORING_RULES["velocity"], "max_purchases": 2},
    }
    offer = OfferFactory()
    card = CardFactory()
    for n in range(3):
        card_purchase(
            card=card, merchant=offer.merchant, amount=1_000 + n, at=timezone.now() - timedelta(minutes=10 - n)
        )

    assert services.monitoring_scan() == 1
    assert services.monitoring_scan() == 0  # the overlap looks again: nothing new
    cursor = ScanCursor.objects.get()
    assert cursor.position <= timezone.now()
    assert FraudFlag.objects.get().rule == "velocity"


def test_the_nightly_sweep_applies_a_changed_threshold_to_the_last_day(settings):
    offer = OfferFactory()
    card = CardFactory()
    for n in range(3):
        card_purchase(
            card=card, merchant=offer.merchant, amount=1_000 + n, at=timezone.now() - timedelta(minutes=10 - n)
        )
    assert services.monitoring_sweep() == 0  # five an hour allowed
    settings.MONITORING_RULES = {
        **settings.MONITORING_RULES,
        "velocity": {**settings.MONITORING_RULES["velocity"], "max_purchases": 2},
    }
    assert services.monitoring_sweep() == 1
    assert services.monitoring_sweep() == 0


def test_holding_a_velocity_flag_holds_every_purchase_in_its_window_and_a_person_flag_all_of_theirs(settings):
    settings.MONITORING_RULES = {
        **settings.MONITORING_RULES,
        "velocity": {**settings.MONITORING_RULES["velocity"], "max_purchases": 2},
    }
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    card = CardFactory()
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    burst = [
        card_purchase(card=card, merchant=offer.merchant, amount=1_000 + n, at=start + timedelta(minutes=n))
        for n in range(3)
    ]
    elsewhere = card_purchase(
        card=CardFactory(user=card.user), merchant=offer.merchant, amount=5_000, at=start - timedelta(hours=5)
    )
    for purchase in burst:
        services.purchase_check(purchase_id=purchase.pk)
    velocity = FraudFlag.objects.get(rule="velocity")

    assert services.flag_hold(flag=velocity, actor=StaffUserFactory(), reason="Burst") == 3
    assert campaign_services.rewards_mature_due(now=timezone.now() + timedelta(days=15)) == 1
    assert matured(elsewhere.pk) and not any(matured(p.pk) for p in burst)

    person = FraudFlag.objects.create(rule="many_cards", window_key="user:test", user=card.user)
    assert services.flag_reward_ids(flag=person) == sorted(
        Reward.objects.filter(user=card.user, matured_at__isnull=True).values_list("pk", flat=True)
    )
