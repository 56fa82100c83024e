"""Referring a business: partner link or submitted details; paid when the merchant is approved and its
first offer goes live (through the real merchants and campaigns services and their facts)."""

import pytest
from django.urls import reverse

from accounts.blocking import user_block
from campaigns.models import OfferStatus
from campaigns.services import offer_approve, offer_pause, offer_resume
from merchants.models import Merchant
from merchants.services import merchant_approve
from referrals import services
from referrals.errors import BusinessAlreadyPartnerError, BusinessAlreadySubmittedError
from referrals.models import BusinessReferral, BusinessReferralStatus
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.merchants.factories import MembershipFactory, MerchantFactory
from tests.referrals.ledger import bonus_credits, bonus_journals

pytestmark = pytest.mark.django_db

APPLICATION = {
    "legal_name": "Fjord Coffee AS",
    "display_name": "Fjord Coffee",
    "country": "NO",
    "organisation_number": "923 609 016",
    "currency": "",
    "category_code": "5814",
    "contact_name": "Dina",
    "contact_email": "dina@fjord.example",
    "contact_phone": "",
}


@pytest.fixture
def referrer(program):
    return UserFactory()


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def launch_first_offer(merchant: Merchant, staff) -> None:
    offer = OfferFactory(merchant=merchant, status=OfferStatus.IN_REVIEW)
    offer_approve(offer_id=offer.pk, actor=staff)  # starts_at is in the past: live at once


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_partner_link_apply_approve_and_first_offer_pays_the_referrer(client, referrer, staff):
    code = services.referral_code_for(user=referrer).code

    # when: the business owner opens the consumer's partner link, then applies
    client.get(reverse("partners:index") + f"?ref={code.lower()}")
    client.force_login(UserFactory())
    response = client.post(reverse("partners:apply"), APPLICATION)
    assert response.status_code == 302

    merchant = Merchant.objects.get()
    referral = BusinessReferral.objects.get()
    assert (referral.merchant, referral.referrer, referral.source) == (merchant, referrer, "link")
    assert referral.status == BusinessReferralStatus.SIGNED_UP

    # when: staff approve the merchant
    merchant_approve(merchant=merchant, actor=staff)
    referral.refresh_from_db()
    assert referral.status == BusinessReferralStatus.APPROVED
    assert bonus_journals() == []

    # when: its first offer goes live
    launch_first_offer(merchant, staff)

    # then: the referrer is paid once
    referral.refresh_from_db()
    assert (referral.status, referral.bonus_minor, referral.currency) == (BusinessReferralStatus.PAID, 50_000, "NOK")
    assert bonus_journals() == [f"business-referral:{referral.pk}"]
    assert bonus_credits(referrer) == 50_000

    # and a second offer, or a resumed one, pays nothing more
    launch_first_offer(merchant, staff)
    offer = merchant.offers.first()
    offer_pause(offer_id=offer.pk, actor=staff)
    offer_resume(offer_id=offer.pk, actor=staff)
    assert bonus_journals() == [f"business-referral:{referral.pk}"]


def test_unknown_partner_link_code_changes_nothing(client, program):
    client.get(reverse("partners:index") + "?ref=NOSUCH99")
    client.force_login(UserFactory())

    client.post(reverse("partners:apply"), APPLICATION)

    assert Merchant.objects.count() == 1
    assert BusinessReferral.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_submitted_business_is_matched_by_organisation_number_at_approval(referrer, staff):
    submitted = services.business_referral_submit(
        referrer=referrer, business_name="Fjord Coffee", organisation_number="923 609 016", country="NO"
    )
    later = services.business_referral_submit(
        referrer=UserFactory(), business_name="Fjord", organisation_number="923609016", country="NO"
    )
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, approved_at=None, organisation_number="923609016")

    merchant_approve(merchant=merchant, actor=staff)
    launch_first_offer(merchant, staff)

    submitted.refresh_from_db()
    later.refresh_from_db()
    assert (submitted.merchant, submitted.status) == (merchant, BusinessReferralStatus.PAID)  # the earliest wins
    assert (later.merchant, later.status) == (None, BusinessReferralStatus.SUBMITTED)


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_submission_then_partner_link_by_the_same_person_is_one_referral(client, referrer, staff):
    services.business_referral_submit(
        referrer=referrer, business_name="Fjord Coffee", organisation_number="923609016", country="NO"
    )
    client.get(reverse("partners:index") + f"?ref={services.referral_code_for(user=referrer).code}")
    client.force_login(UserFactory())

    client.post(reverse("partners:apply"), APPLICATION)

    referral = BusinessReferral.objects.get()
    assert (referral.source, referral.status, referral.merchant) == ("form", "signed_up", Merchant.objects.get())


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_referring_your_own_business_is_rejected(client, referrer, staff):
    # the consumer opens their own partner link and applies with their own account
    client.get(reverse("partners:index") + f"?ref={services.referral_code_for(user=referrer).code}")
    client.force_login(referrer)
    client.post(reverse("partners:apply"), APPLICATION)
    merchant = Merchant.objects.get()

    merchant_approve(merchant=merchant, actor=staff)
    launch_first_offer(merchant, staff)

    referral = BusinessReferral.objects.get()
    assert referral.status == BusinessReferralStatus.REJECTED
    assert bonus_journals() == []


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_a_member_of_the_business_matched_by_number_is_rejected_at_approval(referrer, staff):
    services.business_referral_submit(
        referrer=referrer, business_name="Mine", organisation_number="923609016", country="NO"
    )
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, approved_at=None, organisation_number="923609016")
    MembershipFactory(merchant=merchant, user=referrer, role="manager")

    merchant_approve(merchant=merchant, actor=staff)

    assert BusinessReferral.objects.get().status == BusinessReferralStatus.REJECTED


def test_existing_partner_and_duplicate_submission_are_refused(referrer):
    merchant = MerchantFactory()
    with pytest.raises(BusinessAlreadyPartnerError):
        services.business_referral_submit(
            referrer=referrer, business_name="X", organisation_number=merchant.organisation_number, country="NO"
        )
    services.business_referral_submit(
        referrer=referrer, business_name="X", organisation_number="923609016", country="NO"
    )
    with pytest.raises(BusinessAlreadySubmittedError):
        services.business_referral_submit(
            referrer=referrer, business_name="X", organisation_number="923 609 016", country="NO"
        )
    assert BusinessReferral.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_business_bonus_counts_towards_the_monthly_cap(referrer, staff):
    from tests.referrals.test_services import new_version

    new_version(services.program_current(), monthly_cap=0)
    services.business_referral_submit(
        referrer=referrer, business_name="X", organisation_number="923609016", country="NO"
    )
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, approved_at=None, organisation_number="923609016")

    merchant_approve(merchant=merchant, actor=staff)
    launch_first_offer(merchant, staff)

    assert BusinessReferral.objects.get().status == BusinessReferralStatus.CAPPED
    assert bonus_journals() == []


def test_web_form_submits_a_business(client, referrer):
    client.force_login(referrer)

    response = client.post(
        reverse("referrals:business_submit"),
        {"business_name": "Fjord Coffee", "country": "NO", "organisation_number": "923609017"},
    )
    assert response.status_code == 400
    assert "not a valid organisation number" in response.content.decode()

    response = client.post(
        reverse("referrals:business_submit"),
        {"business_name": "Fjord Coffee", "country": "NO", "organisation_number": "923609016"},
        follow=True,
    )
    assert "Fjord Coffee" in response.content.decode()
    assert BusinessReferral.objects.get().status == BusinessReferralStatus.SUBMITTED


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_a_blocked_referrer_earns_no_business_bonus(client, referrer, staff):
    code = services.referral_code_for(user=referrer).code
    client.get(reverse("partners:index") + f"?ref={code}")
    client.force_login(UserFactory())
    client.post(reverse("partners:apply"), APPLICATION)
    merchant = Merchant.objects.get()
    merchant_approve(merchant=merchant, actor=staff)
    user_block(user=referrer, actor=staff, reason="Referral farming")

    launch_first_offer(merchant, staff)

    referral = BusinessReferral.objects.get()
    assert referral.status == BusinessReferralStatus.REJECTED and "blocked" in referral.status_reason
    assert bonus_journals() == []
