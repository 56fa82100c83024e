"""Friends: sign-up link, qualification on reward facts, bonuses on the ledger, refunds, versions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cashback.events import announce
from cashback.models import Fact
from referrals import selectors, services
from referrals.errors import (
    AlreadyReferredError,
    OwnReferralCodeError,
    ProgramChangedError,
    ReferralAfterSignupError,
    UnknownReferralCodeError,
)
from referrals.models import Referral, ReferralCode, ReferralStatus
from referrals.services import CurrencyAmounts
from tests.accounts.factories import UserFactory
from tests.referrals.factories import purchase_of, qualify_and_mature, refer
from tests.referrals.ledger import bonus_credits, bonus_journals, funding_balance

pytestmark = pytest.mark.django_db


def amounts(referrer=5000, friend=5000, business=50000, minimum=20000) -> dict[str, CurrencyAmounts]:
    return {"NOK": CurrencyAmounts(referrer, friend, business, minimum)}


def new_version(program, **overrides):
    values = {
        "qualification_window_days": program.qualification_window_days,
        "monthly_cap": program.monthly_cap,
        "review_window_hours": program.review_window_hours,
        "amounts": amounts(),
    }
    values.update(overrides)
    return services.program_version_create(actor=None, based_on_version=program.version, **values)


# --- Codes ---------------------------------------------------------------------------------------


def test_code_is_created_once_short_and_unique_per_consumer():
    user = UserFactory()

    first = services.referral_code_for(user=user)
    again = services.referral_code_for(user=user)

    assert first == again
    assert len(first.code) == 8 and first.code.isalnum() and first.code.isupper()
    assert ReferralCode.objects.count() == 1
    assert services.referral_code_for(user=UserFactory()).code != first.code


def test_code_lookup_forgives_case_spaces_and_dashes(program):
    referrer = UserFactory()
    code = services.referral_code_for(user=referrer).code
    typed = f" {code[:4].lower()}-{code[4:]} "

    referral = services.referral_attach_at_signup(friend=UserFactory(), code=typed)

    assert referral.referrer == referrer and referral.code == code


# --- Sign-up errors: nothing changes -------------------------------------------------------------


@pytest.mark.parametrize("code", ["", "NOPE1234", "x" * 40])
def test_unknown_code_is_refused_and_writes_nothing(program, code):
    with pytest.raises(UnknownReferralCodeError) as error:
        services.referral_attach_at_signup(friend=UserFactory(), code=code)

    assert error.value.code == "unknown_referral_code"
    assert Referral.objects.count() == 0


def test_own_code_is_refused(program):
    user = UserFactory()
    code = services.referral_code_for(user=user).code

    with pytest.raises(OwnReferralCodeError):
        services.referral_attach_at_signup(friend=user, code=code)
    with pytest.raises(OwnReferralCodeError):
        services.referral_claim(user=user, code=code)
    assert Referral.objects.count() == 0


def test_a_code_after_sign_up_is_refused_with_the_reason(program):
    existing = UserFactory()
    code = services.referral_code_for(user=UserFactory()).code

    with pytest.raises(ReferralAfterSignupError) as error:
        services.referral_claim(user=existing, code=code)

    assert error.value.http_status == 409
    assert Referral.objects.count() == 0


def test_a_friend_is_referred_once(program):
    referral = refer()
    other_code = services.referral_code_for(user=UserFactory()).code

    with pytest.raises(AlreadyReferredError):
        services.referral_attach_at_signup(friend=referral.friend, code=other_code)
    with pytest.raises(AlreadyReferredError):
        services.referral_claim(user=referral.friend, code=other_code)
    assert Referral.objects.get().referrer == referral.referrer


# --- Qualification and payment -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_first_qualifying_purchase_pays_both_once_its_cashback_is_available(
    program, django_capture_on_commit_callbacks
):
    referral = refer()
    purchase = purchase_of(referral.friend, amount_minor=20_000)  # exactly the minimum

    # when: the purchase earns cashback
    announce(
        "reward_earned",
        reward_id=1,
        user_id=referral.friend_id,
        purchase_id=purchase.pk,
        amount_minor=2000,
        currency="NOK",
    )
    referral.refresh_from_db()

    # then: it qualifies, but nothing is paid before maturity
    assert referral.status == ReferralStatus.QUALIFYING
    assert referral.qualifying_purchase == purchase
    assert bonus_journals() == []

    # when: the cashback becomes available (the maturity task announces it, maybe twice)
    for _ in range(2):
        services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=purchase.pk)
    referral.refresh_from_db()

    # then: both are paid once, into their available balances, funded by the marketing account
    assert referral.status == ReferralStatus.PAID
    assert bonus_journals() == [f"referral:{referral.pk}:friend", f"referral:{referral.pk}:referrer"]
    assert bonus_credits(referral.referrer) == 5000
    assert bonus_credits(referral.friend) == 5000
    assert funding_balance() == -10_000
    assert (referral.referrer_bonus_minor, referral.friend_bonus_minor, referral.currency) == (5000, 5000, "NOK")
    assert referral.referrer.notifications.filter(kind="referral_bonus").count() == 1
    assert referral.friend.notifications.filter(kind="referral_bonus").count() == 1
    assert Fact.objects.filter(kind="referral_bonus_paid").count() == 2  # one per bonus, not per run


def test_earned_totals_equal_the_ledger(program):
    referrer = UserFactory()
    paid = [qualify_and_mature(refer(referrer)) for _ in range(3)]
    refer(referrer)  # still pending

    totals = selectors.referral_earnings(user=referrer)

    assert totals.by_currency == {"NOK": bonus_credits(referrer)} == {"NOK": 15_000}
    assert selectors.referral_earnings(user=paid[0].friend).by_currency == {"NOK": bonus_credits(paid[0].friend)}


def test_purchase_below_the_minimum_does_not_qualify_but_a_later_one_does(program):
    referral = refer()
    small = purchase_of(referral.friend, amount_minor=19_999)
    services.referral_purchase_rewarded(friend_id=referral.friend_id, purchase_id=small.pk)
    services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=small.pk)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING

    qualify_and_mature(referral)

    assert referral.status == ReferralStatus.PAID


def test_purchase_in_a_currency_without_bonus_does_not_qualify(program):
    new_version(program, amounts=amounts())  # NOK only from now on
    referral = refer()

    qualify_and_mature(referral, currency="SEK", amount_minor=100_000)

    assert referral.status == ReferralStatus.PENDING


def test_purchase_after_the_window_does_not_qualify(program):
    referral = refer()
    late = timezone.now() + timedelta(days=program.qualification_window_days, hours=1)

    qualify_and_mature(referral, occurred_at=late)

    assert referral.status == ReferralStatus.PENDING


def test_someone_elses_purchase_does_not_qualify_the_friend(program):
    referral = refer()
    stranger_purchase = purchase_of(UserFactory())

    services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=stranger_purchase.pk)

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_refund_before_maturity_cancels_and_pays_nothing_ever(program):
    referral = refer()
    purchase = purchase_of(referral.friend)
    services.referral_purchase_rewarded(friend_id=referral.friend_id, purchase_id=purchase.pk)

    # when: the purchase is refunded before its cashback matured
    purchase.status = "refunded"
    purchase.save(update_fields=["status"])
    announce("purchase_refunded", purchase_id=purchase.pk, user_id=referral.friend_id)

    # then: cancelled; a later maturity fact or a new purchase pays nothing
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED
    services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=purchase.pk)
    qualify_and_mature(referral)
    assert referral.status == ReferralStatus.CANCELLED
    assert bonus_journals() == []


def test_reward_adjusted_down_but_purchase_still_qualifying_keeps_the_referral(program):
    referral = refer()
    purchase = purchase_of(referral.friend, amount_minor=25_000)
    services.referral_purchase_rewarded(friend_id=referral.friend_id, purchase_id=purchase.pk)

    services.referral_purchase_undone(friend_id=referral.friend_id, purchase_id=purchase.pk)  # reward_reversed

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.QUALIFYING


def test_refund_after_payment_changes_nothing(program):
    referral = qualify_and_mature(refer())
    purchase = referral.qualifying_purchase
    purchase.status = "refunded"
    purchase.save(update_fields=["status"])

    services.referral_purchase_undone(friend_id=referral.friend_id, purchase_id=purchase.pk)

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PAID
    assert bonus_credits(referral.referrer) == 5000


def test_refund_of_another_purchase_changes_nothing(program):
    referral = refer()
    qualifying = purchase_of(referral.friend)
    other = purchase_of(referral.friend)
    services.referral_purchase_rewarded(friend_id=referral.friend_id, purchase_id=qualifying.pk)

    services.referral_purchase_undone(friend_id=referral.friend_id, purchase_id=other.pk)
    services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=other.pk)  # not the qualifying one
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.QUALIFYING

    services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=qualifying.pk)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PAID


# --- Programme versions --------------------------------------------------------------------------


def test_a_new_version_applies_to_new_referrals_only(program):
    old = refer()
    v2 = new_version(program, amounts=amounts(referrer=9000, friend=1000, minimum=50_000))
    new = refer()

    assert (old.program.version, new.program.version) == (1, 2) == (program.version, v2.version)

    qualify_and_mature(old, amount_minor=30_000)  # enough under v1, not under v2
    qualify_and_mature(new, amount_minor=50_000)

    assert (old.status, old.referrer_bonus_minor, old.friend_bonus_minor) == (ReferralStatus.PAID, 5000, 5000)
    assert (new.status, new.referrer_bonus_minor, new.friend_bonus_minor) == (ReferralStatus.PAID, 9000, 1000)


def test_saving_over_someone_elses_version_is_refused(program):
    new_version(program)

    with pytest.raises(ProgramChangedError):
        new_version(program)  # still based on v1

    assert services.program_current().version == 2


@pytest.mark.parametrize(
    "overrides",
    [
        {"qualification_window_days": 0},
        {"monthly_cap": -1},
        {"review_window_hours": 10_000},
        {"amounts": {}},
        {"amounts": {"XXX": CurrencyAmounts(1, 1, 1, 1)}},
        {"amounts": {"NOK": CurrencyAmounts(-1, 0, 0, 0)}},
    ],
)
def test_invalid_programme_is_refused_and_nothing_saved(program, overrides):
    from referrals.errors import InvalidProgramError

    with pytest.raises(InvalidProgramError):
        new_version(program, **overrides)

    assert services.program_current().version == 1


# --- Expiry ---------------------------------------------------------------------------------------


def test_expiry_task_expires_pending_referrals_after_the_window(program):
    old = refer()
    Referral.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    fresh = refer()

    expired_count = services.referrals_expire_due()

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert expired_count == 1
    assert (old.status, fresh.status) == (ReferralStatus.EXPIRED, ReferralStatus.PENDING)


def test_a_purchase_made_inside_the_window_but_reported_late_still_qualifies(program):
    referral = refer()
    Referral.objects.filter(pk=referral.pk).update(created_at=timezone.now() - timedelta(days=31))
    referral.refresh_from_db()
    services.referrals_expire_due()
    inside = referral.created_at + timedelta(days=29)

    qualify_and_mature(referral, occurred_at=inside)

    assert referral.status == ReferralStatus.PAID


def test_beat_schedule_runs_the_expiry_task():
    from django.conf import settings

    assert any(
        entry["task"] == "referrals.tasks.referrals_expire_due" for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )
