"""Blocking a person (accounts.blocking): a blocked person earns nothing new, cannot pay out, donate
or spend, and their pending rewards wait; each refusal is a clear 403 and changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.blocking import user_block, user_unblock
from accounts.errors import AccountBlockedError, AlreadyBlockedError, BlockReasonMissingError, NotBlockedError
from accounts.models import StaffAuditEntry, UserBlockEvent
from campaigns import services as campaign_services
from campaigns.models import Reward
from charity.services import donations
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import consumer_balances, event, fund_merchant
from tests.charity.factories import CharityFactory
from tests.merchants.factories import MerchantFactory
from tests.wallet.payout_support import available, ready_consumer
from wallet import payouts, spending
from wallet.models import JournalTransaction, Payout, SpendCode

pytestmark = pytest.mark.django_db


def _blocked(user):
    user_block(user=user, actor=StaffUserFactory(), reason="Card testing from many accounts")
    return user


def test_blocking_sets_the_state_writes_history_and_the_audit_log_in_one_go():
    staff = StaffUserFactory()
    person = UserFactory()

    user_block(user=person, actor=staff, reason="  Chargeback fraud  ")

    person.refresh_from_db()
    assert person.blocked_at is not None and person.blocked_reason == "Chargeback fraud"
    event = UserBlockEvent.objects.get(user=person)
    assert (event.action, event.reason, event.actor) == ("block", "Chargeback fraud", staff)
    entry = StaffAuditEntry.objects.get(action="user.block")
    assert (entry.actor, entry.target_type, entry.target_id) == (staff, "accounts.user", str(person.pk))
    assert entry.before == {"blocked": False} and entry.after == {"blocked": True, "reason": "Chargeback fraud"}

    user_unblock(user=person, actor=staff, reason="Explained by the bank")

    person.refresh_from_db()
    assert person.blocked_at is None and person.blocked_reason == ""
    assert list(UserBlockEvent.objects.filter(user=person).values_list("action", flat=True)) == ["unblock", "block"]
    unblock = StaffAuditEntry.objects.get(action="user.unblock")
    assert unblock.before == {"blocked": True, "reason": "Chargeback fraud"}


def test_a_block_needs_a_reason_and_a_state_to_change():
    staff, person = StaffUserFactory(), UserFactory()

    with pytest.raises(BlockReasonMissingError):
        user_block(user=person, actor=staff, reason="   ")
    with pytest.raises(NotBlockedError):
        user_unblock(user=person, actor=staff, reason="Nothing to lift")
    user_block(user=person, actor=staff, reason="First")
    with pytest.raises(AlreadyBlockedError):
        user_block(user=person, actor=staff, reason="Second")

    assert UserBlockEvent.objects.count() == 1 and StaffAuditEntry.objects.count() == 1


def test_a_blocked_person_cannot_pay_out(settings, fake_stripe):
    settings.PAYOUT_MINIMUM_MINOR = 10000
    person = _blocked(ready_consumer(balance=50000))

    with pytest.raises(AccountBlockedError) as refused:
        payouts.payout_request(user=person, amount_minor=20000, currency="NOK")

    assert refused.value.http_status == 403 and "blocked" in refused.value.message
    assert Payout.objects.count() == 0 and available(person) == 50000


def test_a_blocked_person_cannot_donate():
    person = _blocked(ready_consumer(balance=5000))
    charity = CharityFactory()
    journals = JournalTransaction.objects.count()

    with pytest.raises(AccountBlockedError):
        donations.donation_make(
            user=person, charity_id=charity.pk, amount_minor=1000, currency="NOK", idempotency_key="k1"
        )

    assert JournalTransaction.objects.count() == journals and available(person) == 5000


def test_a_blocked_person_cannot_spend_with_a_new_code_or_one_issued_before_the_block():
    person = ready_consumer(balance=5000)
    code = spending.spend_code_issue(user=person, currency="NOK")
    _blocked(person)

    with pytest.raises(AccountBlockedError):
        spending.spend_code_issue(user=person, currency="NOK")
    with pytest.raises(AccountBlockedError):
        spending.spend_hold_place(
            merchant=MerchantFactory(currency="NOK"), code=code.code, amount_minor=1000, currency="NOK"
        )

    assert SpendCode.objects.get(pk=code.pk).status == SpendCode.Status.ACTIVE and available(person) == 5000


def test_a_blocked_person_earns_nothing_new_and_the_purchase_says_why():
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 100_000)
    person = _blocked(UserFactory())

    purchase = event(user=person, merchant=offer.merchant, kind="auth", amount=20_000)

    assert not Reward.objects.filter(user=person).exists()
    assert consumer_balances(person)["pending"] == 0
    [decision] = purchase.decisions
    assert decision["applied"] is False and decision["code"] == "account_blocked"
    assert "blocked" in decision["message"]


def test_pending_rewards_wait_while_blocked_and_mature_once_unblocked():
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 100_000)
    person = UserFactory()
    event(user=person, merchant=offer.merchant, kind="auth", amount=20_000, txn="t1")
    event(user=person, merchant=offer.merchant, kind="clearing", amount=20_000, txn="t1")
    staff = StaffUserFactory()
    user_block(user=person, actor=staff, reason="Under review")
    later = timezone.now() + timedelta(days=15)

    assert campaign_services.rewards_mature_due(now=later) == 0
    reward = Reward.objects.get(user=person)
    assert campaign_services.reward_mature(reward_id=reward.pk, now=later) is False
    assert consumer_balances(person)["pending"] == 2_000

    user_unblock(user=person, actor=staff, reason="Cleared")

    assert campaign_services.rewards_mature_due(now=later) == 1
    assert consumer_balances(person) == {"pending": 0, "available": 2_000, "receivable": 0}


# --- Through the doors: the app's API answers a clear 403, never a 500 -------------------------------


def test_the_api_tells_a_blocked_person_why_donating_paying_out_and_spending_are_refused(settings, fake_stripe):
    from rest_framework.test import APIClient

    settings.PAYOUT_MINIMUM_MINOR = 10000
    person = _blocked(ready_consumer(balance=50000))
    client = APIClient()
    client.force_authenticate(person)

    answers = [
        client.post(
            "/api/v1/donations/",
            {"charity": CharityFactory().pk, "currency": "NOK", "amount": "25.00"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="d-1",
        ),
        client.post(
            "/api/v1/payouts/", {"amount": "200.00", "currency": "NOK"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1"
        ),
        client.post("/api/v1/spend-codes/", {"currency": "NOK"}, format="json"),
    ]

    for response in answers:
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "account_blocked"
        assert "contact support" in response.json()["error"]["message"]
    assert available(person) == 50000


def test_a_blocked_person_gets_no_new_challenge_bonus():
    from tests.campaigns.factories import ChallengeFactory

    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 100_000)
    ChallengeFactory(offer=offer, target_type="purchase_count", target_value=1, bonus_minor=5_000)
    person = _blocked(UserFactory())

    event(user=person, merchant=offer.merchant, kind="clearing", amount=20_000)

    assert not Reward.objects.filter(user=person).exists()
    assert consumer_balances(person)["pending"] == 0
