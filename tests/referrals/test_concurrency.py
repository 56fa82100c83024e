"""Referrals under concurrency (PostgreSQL): threads, each with its own connection."""

import pytest

from referrals import services
from referrals.errors import ProgramChangedError
from referrals.models import BusinessReferral, Referral, ReferralCode, ReferralProgram, ReferralStatus
from tests.accounts.factories import UserFactory
from tests.concurrency import run_together
from tests.merchants.factories import MerchantFactory
from tests.referrals.factories import purchase_of, refer
from tests.referrals.ledger import bonus_credits, bonus_journals, funding_balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


def test_concurrent_qualification_of_one_referral_pays_once(program):
    referral = refer()
    purchase = purchase_of(referral.friend)
    services.referral_purchase_rewarded(friend_id=referral.friend_id, purchase_id=purchase.pk)

    results = run_together(
        lambda i: services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=purchase.pk),
        threads=THREADS,
    )

    assert not [result for result in results if isinstance(result, Exception)], results
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PAID
    assert bonus_journals() == [f"referral:{referral.pk}:friend", f"referral:{referral.pk}:referrer"]
    assert bonus_credits(referral.referrer) == bonus_credits(referral.friend) == 5000
    assert funding_balance() == -10_000


def test_concurrent_qualification_racing_staff_approval_and_rejection_resolves_once(program):
    referrer = UserFactory()
    refer(referrer, ip="198.51.100.1")
    referral = refer(referrer, ip="198.51.100.2")
    purchase = purchase_of(referral.friend)
    services.referral_purchase_rewarded(friend_id=referral.friend_id, purchase_id=purchase.pk)
    services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=purchase.pk)
    staff = UserFactory(is_staff=True)

    def work(i: int):
        if i % 3 == 0:
            return services.referral_review_approve(referral_id=referral.pk, actor=staff)
        if i % 3 == 1:
            return services.referral_review_reject(referral_id=referral.pk, actor=staff, reason="looks fake")
        return services.referral_purchase_matured(friend_id=referral.friend_id, purchase_id=purchase.pk)

    results = run_together(work, threads=THREADS)

    referral.refresh_from_db()
    decisions = [r for r in results if not isinstance(r, Exception) and r is not None]
    assert referral.status in (ReferralStatus.PAID, ReferralStatus.REJECTED)
    expected = 5000 if referral.status == ReferralStatus.PAID else 0
    assert bonus_credits(referral.referrer) == bonus_credits(referral.friend) == expected
    assert len([r for r in results if isinstance(r, Exception)]) == (THREADS // 3) * 2 - 1, results
    assert decisions


def test_the_monthly_cap_holds_when_a_referrers_friends_qualify_at_once(program):
    from tests.referrals.test_services import new_version

    new_version(program, monthly_cap=3)
    referrer = UserFactory()
    referrals = [refer(referrer) for _ in range(THREADS)]
    purchases = [purchase_of(referral.friend) for referral in referrals]
    for referral, purchase in zip(referrals, purchases, strict=True):
        services.referral_purchase_rewarded(friend_id=referral.friend_id, purchase_id=purchase.pk)

    results = run_together(
        lambda i: services.referral_purchase_matured(friend_id=referrals[i].friend_id, purchase_id=purchases[i].pk),
        threads=THREADS,
    )

    assert not [result for result in results if isinstance(result, Exception)], results
    statuses = sorted(Referral.objects.values_list("status", flat=True))
    assert statuses.count(ReferralStatus.PAID) == 3
    assert statuses.count(ReferralStatus.CAPPED) == THREADS - 3
    assert bonus_credits(referrer) == 15_000


def test_one_code_per_consumer_even_when_asked_for_at_once(program):
    user = UserFactory()

    results = run_together(lambda i: services.referral_code_for(user=user).code, threads=THREADS)

    assert len(set(results)) == 1, results
    assert ReferralCode.objects.filter(user=user).count() == 1


def test_two_staff_saving_the_programme_at_once_make_one_version(program):
    from referrals.services import CurrencyAmounts

    def save(i: int):
        return services.program_version_create(
            actor=None,
            based_on_version=1,
            qualification_window_days=30,
            monthly_cap=i + 1,
            review_window_hours=24,
            amounts={"NOK": CurrencyAmounts(5000, 5000, 50000, 20000)},
        )

    results = run_together(save, threads=6)

    winners = [result for result in results if isinstance(result, ReferralProgram)]
    assert len(winners) == 1
    assert all(isinstance(result, ProgramChangedError) for result in results if result not in winners), results
    assert ReferralProgram.objects.count() == 2


def test_concurrent_offer_live_facts_pay_the_business_bonus_once(program):
    referrer = UserFactory()
    merchant = MerchantFactory(status="pending_review", approved_at=None)
    services.business_referral_link_at_partner_signup(
        merchant_id=merchant.pk, code=services.referral_code_for(user=referrer).code
    )
    services.business_referral_merchant_approved(merchant_id=merchant.pk)

    results = run_together(lambda i: services.business_referral_offer_live(merchant_id=merchant.pk), threads=THREADS)

    assert not [result for result in results if isinstance(result, Exception)], results
    assert BusinessReferral.objects.get().status == "paid"
    assert bonus_journals() == [f"business-referral:{BusinessReferral.objects.get().pk}"]
    assert bonus_credits(referrer) == 50_000
