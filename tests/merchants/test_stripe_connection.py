"""The portal's Stripe page: an owner connects the merchant's Stripe account (Express onboarding
through the Stripe gateway), comes back, and can disconnect it; each change is audited."""

import pytest
from django.urls import reverse

from cashback.providers.stripe_gateway import FakeStripeGateway
from merchants.models import AuditEvent, StripeConnection
from tests.merchants.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fake_stripe(settings):
    settings.STRIPE_PROVIDER = "fake"
    FakeStripeGateway.reset()
    yield
    FakeStripeGateway.reset()


@pytest.fixture
def owner(client):
    membership = MembershipFactory(role="owner")
    client.force_login(membership.user)
    return membership


def _url(name, merchant):
    return reverse(f"merchants:{name}", args=[merchant.pk])


def test_connecting_creates_one_account_and_sends_the_owner_to_stripe(client, owner):
    merchant = owner.merchant

    response = client.post(_url("stripe", merchant))

    assert response.status_code == 302
    connection = StripeConnection.objects.get(merchant=merchant)
    assert connection.stripe_account_id.startswith("acct_")
    assert connection.status == StripeConnection.Status.ONBOARDING
    created = FakeStripeGateway.calls("connected_account_create")
    assert len(created) == 1
    assert created[0].idempotency_key == f"merchant:{merchant.pk}:stripe-connect"
    assert created[0].params["email"] == merchant.contact_email and created[0].params["country"] == "NO"
    link = FakeStripeGateway.calls("account_link_create")[0]
    assert link.params["account"] == connection.stripe_account_id
    assert link.params["return_url"].endswith(_url("stripe_return", merchant))
    assert response.url == link.params["return_url"]  # the fake's onboarding "page" is the return URL

    client.post(_url("stripe", merchant))  # "Continue on Stripe" again
    assert len(FakeStripeGateway.calls("connected_account_create")) == 1
    assert StripeConnection.objects.count() == 1


def test_coming_back_with_details_submitted_connects(client, owner):
    merchant = owner.merchant
    client.post(_url("stripe", merchant))
    connection = StripeConnection.objects.get()
    FakeStripeGateway.account_set(connection.stripe_account_id, details_submitted=False, charges_enabled=False)

    client.get(_url("stripe_return", merchant))
    connection.refresh_from_db()
    assert connection.status == StripeConnection.Status.ONBOARDING

    FakeStripeGateway.account_set(connection.stripe_account_id, details_submitted=True, charges_enabled=True)
    response = client.get(_url("stripe_return", merchant))
    connection.refresh_from_db()
    assert response.status_code == 302
    assert connection.status == StripeConnection.Status.ACTIVE and connection.connected_at is not None
    assert AuditEvent.objects.filter(merchant=merchant, action="stripe.connected").count() == 1
    page = client.get(_url("stripe", merchant))
    assert connection.stripe_account_id.encode() in page.content and b"Disconnect Stripe" in page.content


def test_disconnecting_asks_first_and_is_audited(client, owner):
    merchant = owner.merchant
    StripeConnection.objects.create(merchant=merchant, stripe_account_id="acct_1QOld", status="active")

    assert client.get(_url("stripe_disconnect", merchant)).status_code == 200
    assert StripeConnection.objects.get().status == "active"
    client.post(_url("stripe_disconnect", merchant))

    connection = StripeConnection.objects.get()
    assert connection.status == StripeConnection.Status.DISCONNECTED
    assert AuditEvent.objects.filter(merchant=merchant, action="stripe.disconnected").count() == 1

    client.post(_url("stripe", merchant))  # connect again: the same account, onboarding anew
    connection.refresh_from_db()
    assert connection.stripe_account_id == "acct_1QOld" and connection.status == StripeConnection.Status.ONBOARDING
    assert not FakeStripeGateway.calls("connected_account_create")


def test_a_stripe_failure_is_a_message_not_a_500(client, owner):
    FakeStripeGateway.fail_next("connected_account_create")
    response = client.post(_url("stripe", owner.merchant), follow=True)
    assert response.status_code == 200
    assert not StripeConnection.objects.exists()


def test_disconnecting_nothing_is_404(client, owner):
    assert client.get(_url("stripe_disconnect", owner.merchant)).status_code == 404
