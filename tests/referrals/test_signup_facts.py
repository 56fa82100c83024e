"""Sign-up and partner applications reach the referral programme through facts (cashback.events), not
by a form or view of a lower app calling referrals: the facts carry plain values, so a subscriber that
runs after commit, without the request, still links the friend or the business."""

import pytest
from django.urls import reverse

from cashback import events
from cashback.keyed_ids import external_key
from merchants.models import Merchant
from referrals import handlers, services
from referrals.models import BusinessReferral, DeviceSighting, Referral, ReferralStatus
from tests.accounts.factories import PASSWORD, UserFactory
from tests.referrals.test_business import APPLICATION

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(monkeypatch):
    """Every fact announced during the test, in order, as (name, keyword arguments)."""
    seen: list[tuple[str, dict]] = []
    real_announce = events.announce

    def spy(fact: str, **facts):
        seen.append((fact, facts))
        real_announce(fact, **facts)

    monkeypatch.setattr(events, "announce", spy)
    return seen


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_sign_up_announces_the_typed_code_device_and_network(client, program, announced):
    referrer = UserFactory()
    code = services.referral_code_for(user=referrer).code

    client.post(
        reverse("account_signup"),
        {
            "email": "friend@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "accept_terms": "on",
            "referral_code": code.lower(),
        },
        REMOTE_ADDR="198.51.100.23",
        headers={"X-Device-Id": "app-device-0001"},
    )

    signed_up = [facts for name, facts in announced if name == "user_signed_up"]
    friend = Referral.objects.get().friend
    assert signed_up == [
        {
            "user_id": friend.pk,
            "referral_code": code,
            "ip": "198.51.100.23",
            # the app's own id is kept only as its keyed hash: the fact is never erased
            "device_id": external_key(namespace="device", value="app-device-0001"),
        }
    ]


def test_the_subscriber_links_the_friend_from_plain_values_and_a_replay_changes_nothing(program):
    referrer = UserFactory()
    code = services.referral_code_for(user=referrer).code
    friend = UserFactory()

    for _replay in range(2):
        handlers.on_user_signed_up(user_id=friend.pk, referral_code=code, ip="203.0.113.9", device_id="dev-00000001")

    referral = Referral.objects.get()
    assert (referral.referrer, referral.friend, referral.status) == (referrer, friend, ReferralStatus.PENDING)
    assert (referral.signup_ip, referral.network, referral.device_id) == (
        "203.0.113.9",
        "203.0.113.0/24",
        "dev-00000001",
    )
    assert DeviceSighting.objects.filter(user=friend).count() == 1


def test_a_code_that_stopped_working_after_the_form_checked_it_is_dropped(program):
    friend = UserFactory()

    handlers.on_user_signed_up(user_id=friend.pk, referral_code="NOSUCH99", ip=None, device_id="dev-00000002")

    assert Referral.objects.count() == 0
    assert DeviceSighting.objects.filter(user=friend, device_id="dev-00000002").exists()


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_partner_application_announces_the_remembered_partner_code(client, program, announced):
    referrer = UserFactory()
    code = services.referral_code_for(user=referrer).code
    client.get(reverse("partners:index") + f"?ref={code.lower()}")
    client.force_login(UserFactory())

    client.post(reverse("partners:apply"), APPLICATION)

    merchant = Merchant.objects.get()
    assert ("merchant_applied", {"merchant_id": merchant.pk, "referral_code": code}) in announced
    assert BusinessReferral.objects.get().merchant == merchant


def test_partner_application_without_a_link_announces_no_code(client, program, announced):
    client.force_login(UserFactory())

    client.post(reverse("partners:apply"), APPLICATION)

    assert ("merchant_applied", {"merchant_id": Merchant.objects.get().pk, "referral_code": ""}) in announced
    assert BusinessReferral.objects.count() == 0


def test_a_partner_link_with_junk_instead_of_a_code_is_not_remembered(client, program):
    response = client.get(reverse("partners:index") + "?ref=" + "<script>" * 10)

    assert response.status_code == 200
    assert "cb_partner_ref" not in response.cookies
