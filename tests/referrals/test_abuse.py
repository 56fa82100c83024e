"""Every abuse rule, each with a test that tries to break it (F-R3).

Rules: no self-referral (own code, same device, same card, same payout details), a monthly cap per
referrer, sign-ups from one network or device within the review window held for staff, and a
qualifying purchase refunded before maturity pays nothing (tested in test_services.py).
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.blocking import user_block
from accounts.models import Card
from referrals import services
from referrals.errors import ReasonRequiredError, ReferralNotHeldError
from referrals.models import Referral, ReferralStatus
from referrals.services import CurrencyAmounts, ReviewSignal
from tests.accounts.factories import UserFactory
from tests.referrals.factories import qualify_and_mature, refer
from tests.referrals.ledger import bonus_credits, bonus_journals

pytestmark = pytest.mark.django_db


def card(user, *, token: str, first_six="424242", last_four="4242", exp_month=12, exp_year=2030) -> Card:
    return Card.objects.create(
        user=user, network_token=token, first_six=first_six, last_four=last_four, exp_month=exp_month, exp_year=exp_year
    )


# --- Self-referral ----------------------------------------------------------------------------------


def test_same_device_as_the_referrer_at_sign_up_is_rejected_and_never_paid(program):
    referrer = UserFactory()
    services.device_sighting_record(user=referrer, device_id="device-of-referrer-1", ip="203.0.113.5")

    referral = refer(referrer, device_id="device-of-referrer-1")
    assert referral.status == ReferralStatus.REJECTED
    assert "device" in referral.status_reason

    qualify_and_mature(referral)
    assert referral.status == ReferralStatus.REJECTED
    assert bonus_journals() == []


def test_a_device_shared_later_rejects_at_payment(program):
    referral = refer(device_id="friend-device-0001")
    # the referrer later looks at their code on the friend's phone
    services.device_sighting_record(user=referral.referrer, device_id="friend-device-0001", ip=None)

    qualify_and_mature(referral)

    assert referral.status == ReferralStatus.REJECTED
    assert bonus_journals() == []


def test_same_card_token_family_rejects_at_payment(program):
    referral = refer()
    card(referral.referrer, token="tok_referrer")
    # the same physical card enrolled again under the friend's account gets a new token,
    # but the same BIN, last four and expiry
    card(referral.friend, token="tok_friend")

    qualify_and_mature(referral)

    assert referral.status == ReferralStatus.REJECTED
    assert "card" in referral.status_reason
    assert bonus_credits(referral.referrer) == bonus_credits(referral.friend) == 0


def test_different_cards_do_not_trip_the_card_rule(program):
    referral = refer()
    card(referral.referrer, token="tok_a", last_four="1111")
    card(referral.friend, token="tok_b", last_four="2222")

    qualify_and_mature(referral)

    assert referral.status == ReferralStatus.PAID


def test_a_card_token_can_never_belong_to_both(program):
    """Trying to break the card rule the other way: the friend linking the referrer's token."""
    referral = refer()
    card(referral.referrer, token="tok_shared")

    with pytest.raises(IntegrityError), transaction.atomic():
        card(referral.friend, token="tok_shared")


def test_payout_details_can_never_be_shared(program):
    """Same payment details: a Stripe payout account belongs to one consumer only (unique), so a
    friend cannot be paid out to the referrer's account."""
    from wallet.models import PayoutAccount

    referral = refer()
    PayoutAccount.objects.create(user=referral.referrer, stripe_account_id="acct_shared")

    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutAccount.objects.create(user=referral.friend, stripe_account_id="acct_shared")


def test_database_refuses_a_self_referral_row(program):
    user = UserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.create(referrer=user, friend=user, code="ABCDEFGH", program=program)


# --- Review window: same network or device ------------------------------------------------------------


def test_two_friends_from_one_network_within_the_window_are_both_held(program):
    referrer = UserFactory()
    first = refer(referrer, ip="198.51.100.10")
    second = refer(referrer, ip="198.51.100.200")  # same /24

    first.refresh_from_db()
    assert second.review_reasons == [ReviewSignal.SAME_NETWORK]
    assert first.review_reasons == [ReviewSignal.SAME_NETWORK]

    for referral in (first, second):
        qualify_and_mature(referral)
        assert referral.status == ReferralStatus.HELD
    assert bonus_journals() == []


def test_friends_from_one_network_outside_the_window_are_paid(program):
    referrer = UserFactory()
    first = refer(referrer, ip="198.51.100.10")
    Referral.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=25))
    second = refer(referrer, ip="198.51.100.11")

    assert second.review_reasons == []
    assert qualify_and_mature(second).status == ReferralStatus.PAID


def test_other_networks_are_not_held(program):
    referrer = UserFactory()
    refer(referrer, ip="198.51.100.10")
    other = refer(referrer, ip="198.51.101.10")  # next /24

    assert qualify_and_mature(other).status == ReferralStatus.PAID


def test_ipv6_sign_ups_are_grouped_by_64(program):
    referrer = UserFactory()
    refer(referrer, ip="2001:db8:1:2::1")
    second = refer(referrer, ip="2001:db8:1:2:ffff::9")

    assert second.network == "2001:db8:1:2::/64"
    assert second.review_reasons == [ReviewSignal.SAME_NETWORK]


def test_two_sign_ups_on_one_device_within_the_window_are_held_even_for_different_referrers(program):
    first = refer(device_id="shared-device-777")
    second = refer(device_id="shared-device-777")

    first.refresh_from_db()
    assert ReviewSignal.SAME_DEVICE in second.review_reasons and ReviewSignal.SAME_DEVICE in first.review_reasons
    assert qualify_and_mature(second).status == ReferralStatus.HELD


def test_friend_on_the_network_the_referrer_just_used_is_held(program):
    referrer = UserFactory()
    services.device_sighting_record(user=referrer, device_id="", ip="192.0.2.44")

    referral = refer(referrer, ip="192.0.2.99")

    assert referral.review_reasons == [ReviewSignal.REFERRER_NETWORK]
    assert qualify_and_mature(referral).status == ReferralStatus.HELD


def test_a_zero_hour_window_holds_nothing(program):
    from tests.referrals.test_services import new_version

    new_version(program, review_window_hours=0)
    referrer = UserFactory()
    refer(referrer, ip="198.51.100.10")
    second = refer(referrer, ip="198.51.100.11")

    assert qualify_and_mature(second).status == ReferralStatus.PAID


# --- Staff review -------------------------------------------------------------------------------------------


@pytest.fixture
def held(program):
    referrer = UserFactory()
    refer(referrer, ip="198.51.100.10")
    referral = qualify_and_mature(refer(referrer, ip="198.51.100.11"))
    assert referral.status == ReferralStatus.HELD
    return referral


def test_staff_approval_pays_a_held_referral_once(held):
    staff = UserFactory(is_staff=True)

    services.referral_review_approve(referral_id=held.pk, actor=staff)
    with pytest.raises(ReferralNotHeldError):
        services.referral_review_approve(referral_id=held.pk, actor=staff)

    held.refresh_from_db()
    assert (held.status, held.reviewed_by) == (ReferralStatus.PAID, staff)
    assert bonus_credits(held.referrer) == bonus_credits(held.friend) == 5000


def test_staff_rejection_needs_a_reason_and_pays_nothing(held):
    staff = UserFactory(is_staff=True)
    with pytest.raises(ReasonRequiredError):
        services.referral_review_reject(referral_id=held.pk, actor=staff, reason="  ")

    services.referral_review_reject(referral_id=held.pk, actor=staff, reason="Same household, same card pattern")

    held.refresh_from_db()
    assert (held.status, held.status_reason) == (ReferralStatus.REJECTED, "Same household, same card pattern")
    with pytest.raises(ReferralNotHeldError):
        services.referral_review_approve(referral_id=held.pk, actor=staff)
    assert bonus_journals() == []


def test_staff_approval_still_applies_the_self_referral_rule(held):
    card(held.referrer, token="tok_1")
    card(held.friend, token="tok_2")

    services.referral_review_approve(referral_id=held.pk, actor=UserFactory(is_staff=True))

    held.refresh_from_db()
    assert held.status == ReferralStatus.REJECTED
    assert bonus_journals() == []


# --- Monthly cap --------------------------------------------------------------------------------------------


def test_beyond_the_monthly_cap_referrals_are_capped_and_not_paid(program):
    from tests.referrals.test_services import new_version

    new_version(program, monthly_cap=2)
    referrer = UserFactory()
    referrals = [qualify_and_mature(refer(referrer)) for _ in range(3)]

    assert [referral.status for referral in referrals] == [ReferralStatus.PAID] * 2 + [ReferralStatus.CAPPED]
    assert bonus_credits(referrer) == 10_000
    assert bonus_credits(referrals[2].friend) == 0  # the friend gets nothing either


def test_the_cap_counts_this_calendar_month_only(program):
    from tests.referrals.test_services import new_version

    new_version(program, monthly_cap=1)
    referrer = UserFactory()
    last_month = qualify_and_mature(refer(referrer))
    Referral.objects.filter(pk=last_month.pk).update(paid_at=timezone.now() - timedelta(days=40))

    assert qualify_and_mature(refer(referrer)).status == ReferralStatus.PAID


def test_a_cap_of_zero_pays_nobody(program):
    from tests.referrals.test_services import new_version

    new_version(program, monthly_cap=0, amounts={"NOK": CurrencyAmounts(5000, 5000, 50000, 20000)})

    assert qualify_and_mature(refer()).status == ReferralStatus.CAPPED
    assert bonus_journals() == []


def test_staff_approval_respects_the_cap(program):
    from tests.referrals.test_services import new_version

    new_version(program, monthly_cap=1)
    referrer = UserFactory()
    first = refer(referrer, ip="198.51.100.1")
    second = refer(referrer, ip="198.51.100.2")
    for referral in (first, second):
        qualify_and_mature(referral)
    staff = UserFactory(is_staff=True)

    services.referral_review_approve(referral_id=first.pk, actor=staff)
    services.referral_review_approve(referral_id=second.pk, actor=staff)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ReferralStatus.PAID, ReferralStatus.CAPPED)


# --- Blocked accounts (issue 16) ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["referrer", "friend"])
def test_a_blocked_referrer_or_friend_is_held_and_paid_nothing(program, who):
    referral = refer()
    user_block(user=getattr(referral, who), actor=UserFactory(is_staff=True), reason="Fraud flag")

    qualify_and_mature(referral)

    assert referral.status == ReferralStatus.HELD and "blocked" in referral.status_reason
    assert bonus_journals() == []
