"""Every portal URL by role (owner, manager, analyst, non-member, anonymous) by own/other merchant.

Designed outcome: anonymous → login redirect; not a member of the merchant in the URL → 404 (another
merchant is never revealed); a member whose role may not use the page → 403; otherwise 200.
"""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from merchants.models import (
    AuditEvent,
    Invitation,
    Location,
    Membership,
    MerchantApiKey,
    MerchantInvoice,
    StripeConnection,
)
from tests.accounts.factories import UserFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantApiKeyFactory, MerchantFactory

pytestmark = pytest.mark.django_db

ANY = {"owner", "manager", "analyst"}
EDITORS = {"owner", "manager"}
OWNERS = {"owner"}


@dataclass(frozen=True)
class PortalUrl:
    name: str
    objects: tuple[str, ...]  # which of the merchant's objects the URL needs, besides merchant_id
    roles: set[str]
    method: str = "get"
    success: int = 200


PORTAL_URLS = [
    PortalUrl("dashboard", (), ANY),
    PortalUrl("locations", (), ANY),
    PortalUrl("location_detail", ("location",), ANY),
    PortalUrl("location_create", (), EDITORS),
    PortalUrl("location_edit", ("location",), EDITORS),
    PortalUrl("location_delete", ("location",), EDITORS),
    PortalUrl("team", (), ANY),
    PortalUrl("team_invite", (), OWNERS),
    PortalUrl("member_edit", ("membership",), OWNERS),
    PortalUrl("member_remove", ("membership",), OWNERS),
    PortalUrl("invitation_revoke", ("invitation",), OWNERS, method="post", success=302),
    PortalUrl("activity", (), ANY),
    PortalUrl("settings", (), EDITORS),
    PortalUrl("api_keys", (), OWNERS),
    PortalUrl("api_key_create", (), OWNERS),
    PortalUrl("api_key_revoke", ("api_key",), OWNERS),
    PortalUrl("stripe", (), OWNERS),
    PortalUrl("stripe_disconnect", (), OWNERS),
    PortalUrl("billing", (), ANY),
    # An empty form: the editor gets the page back with errors (400), never a change.
    PortalUrl("billing_details", (), EDITORS, method="post", success=400),
    PortalUrl("invoice_pdf", ("invoice",), ANY),
]

KWARG_NAMES = {
    "location": "location_id",
    "membership": "membership_id",
    "invitation": "invitation_id",
    "api_key": "key_id",
    "invoice": "invoice_id",
}


def _world_for(merchant):
    """A merchant with one of each object the portal URLs point at."""
    return {
        "merchant": merchant,
        "location": LocationFactory(merchant=merchant),
        "membership": MembershipFactory(merchant=merchant, role=Membership.Role.ANALYST),
        "invitation": Invitation.objects.create(
            merchant=merchant,
            email=f"invitee{merchant.pk}@example.com",
            role="analyst",
            token_hash=f"{merchant.pk:064d}",
            expires_at="2099-01-01T00:00:00Z",
        ),
        "api_key": MerchantApiKeyFactory(merchant=merchant),
        "stripe_connection": StripeConnection.objects.create(
            merchant=merchant, stripe_account_id=f"acct_test{merchant.pk}", status="active"
        ),
        "invoice": MerchantInvoice.objects.create(
            merchant=merchant,
            currency="NOK",
            period="2026-01-01",
            number=f"CB-202601-{merchant.pk:06d}-NOK",
            cost_minor=1000,
            commission_minor=150,
            total_minor=1150,
            due_date="2026-02-15",
        ),
    }


@pytest.fixture
def worlds():
    return {"own": _world_for(MerchantFactory()), "other": _world_for(MerchantFactory())}


def _url(spec: PortalUrl, world) -> str:
    kwargs = {"merchant_id": world["merchant"].pk}
    kwargs.update({KWARG_NAMES[name]: world[name].pk for name in spec.objects})
    return reverse(f"merchants:{spec.name}", kwargs=kwargs)


def _request(client, spec: PortalUrl, url: str):
    return client.post(url) if spec.method == "post" else client.get(url)


@pytest.mark.parametrize("spec", PORTAL_URLS, ids=lambda spec: spec.name)
@pytest.mark.parametrize("role", ["owner", "manager", "analyst"])
def test_members_of_the_merchant_get_what_their_role_allows(client, worlds, spec, role):
    member = MembershipFactory(merchant=worlds["own"]["merchant"], role=role)
    client.force_login(member.user)

    response = _request(client, spec, _url(spec, worlds["own"]))

    assert response.status_code == (spec.success if role in spec.roles else 403)


@pytest.mark.parametrize("spec", PORTAL_URLS, ids=lambda spec: spec.name)
@pytest.mark.parametrize("role", ["owner", "manager", "analyst"])
def test_members_never_see_another_merchant(client, worlds, spec, role):
    member = MembershipFactory(merchant=worlds["own"]["merchant"], role=role)
    client.force_login(member.user)

    response = _request(client, spec, _url(spec, worlds["other"]))

    assert response.status_code == 404


@pytest.mark.parametrize("spec", PORTAL_URLS, ids=lambda spec: spec.name)
def test_a_logged_in_non_member_gets_404(client, worlds, spec):
    client.force_login(UserFactory())

    response = _request(client, spec, _url(spec, worlds["own"]))

    assert response.status_code == 404


@pytest.mark.parametrize("spec", PORTAL_URLS, ids=lambda spec: spec.name)
def test_anonymous_visitors_are_sent_to_log_in(client, worlds, spec):
    url = _url(spec, worlds["own"])

    response = _request(client, spec, url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "next=" in response.url


@pytest.mark.parametrize("name", ["location_detail", "location_edit", "location_delete"])
def test_another_merchants_location_under_my_merchant_id_is_404(client, worlds, name):
    owner = MembershipFactory(merchant=worlds["own"]["merchant"], role="owner")
    client.force_login(owner.user)
    url = reverse(
        f"merchants:{name}",
        kwargs={"merchant_id": worlds["own"]["merchant"].pk, "location_id": worlds["other"]["location"].pk},
    )

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert Location.objects.filter(pk=worlds["other"]["location"].pk).exists()


@pytest.mark.parametrize("name", ["member_edit", "member_remove"])
def test_another_merchants_member_under_my_merchant_id_is_404(client, worlds, name):
    owner = MembershipFactory(merchant=worlds["own"]["merchant"], role="owner")
    client.force_login(owner.user)
    other = worlds["other"]["membership"]
    url = reverse(f"merchants:{name}", kwargs={"merchant_id": worlds["own"]["merchant"].pk, "membership_id": other.pk})

    assert client.post(url, {"role": "owner"}).status_code == 404
    other.refresh_from_db()
    assert other.role == Membership.Role.ANALYST


ANALYST_POSTS = [
    ("location_create", (), {"name": "X", "street": "Y 1", "postcode": "0150", "city": "Oslo", "country": "NO"}),
    ("location_edit", ("location",), {"name": "Renamed", "street": "Y 1", "postcode": "0150", "city": "Oslo"}),
    ("location_delete", ("location",), {}),
    ("team_invite", (), {"email": "new@example.com", "role": "owner"}),
    ("member_edit", ("membership",), {"role": "owner"}),
    ("member_remove", ("membership",), {}),
    ("invitation_revoke", ("invitation",), {}),
    ("settings", (), {"display_name": "Hacked", "contact_name": "X", "contact_email": "x@example.com"}),
    ("api_key_create", (), {"name": "Sneaky"}),
    ("api_key_revoke", ("api_key",), {}),
    ("stripe", (), {}),
    ("stripe_disconnect", (), {}),
]


@pytest.mark.parametrize(("name", "objects", "data"), ANALYST_POSTS, ids=[post[0] for post in ANALYST_POSTS])
def test_analysts_cannot_change_anything(client, worlds, name, objects, data):
    world = worlds["own"]
    analyst = MembershipFactory(merchant=world["merchant"], role="analyst")
    client.force_login(analyst.user)
    before = (
        list(Location.objects.values()),
        list(Membership.objects.values()),
        list(Invitation.objects.values()),
        list(type(world["merchant"]).objects.values()),
        list(MerchantApiKey.objects.values()),
        list(StripeConnection.objects.values()),
    )

    response = client.post(_url(PortalUrl(name, objects, set()), world), data)

    assert response.status_code == 403
    after = (
        list(Location.objects.values()),
        list(Membership.objects.values()),
        list(Invitation.objects.values()),
        list(type(world["merchant"]).objects.values()),
        list(MerchantApiKey.objects.values()),
        list(StripeConnection.objects.values()),
    )
    assert after == before
    assert not AuditEvent.objects.exists()


def test_managers_cannot_change_the_team(client, worlds):
    world = worlds["own"]
    manager = MembershipFactory(merchant=world["merchant"], role="manager")
    client.force_login(manager.user)

    response = client.post(
        reverse("merchants:member_edit", kwargs={"merchant_id": world["merchant"].pk, "membership_id": manager.pk}),
        {"role": "owner"},
    )

    assert response.status_code == 403
    manager.refresh_from_db()
    assert manager.role == Membership.Role.MANAGER


def test_the_portal_index_lists_only_my_merchants(client):
    user = UserFactory()
    mine = [MembershipFactory(user=user, role=role).merchant for role in ("owner", "analyst")]
    not_mine = MerchantFactory()
    client.force_login(user)

    response = client.get(reverse("merchants:portal"))

    html = response.content.decode()
    assert response.status_code == 200
    assert all(merchant.display_name in html for merchant in mine)
    assert not_mine.display_name not in html


def test_the_portal_index_goes_straight_in_with_one_merchant(client):
    membership = MembershipFactory()
    client.force_login(membership.user)

    response = client.get(reverse("merchants:portal"))

    assert response.status_code == 302
    assert response.url == reverse("merchants:dashboard", kwargs={"merchant_id": membership.merchant_id})


def test_the_portal_index_without_memberships_points_to_the_sign_up(client):
    client.force_login(UserFactory())

    response = client.get(reverse("merchants:portal"))

    assert response.status_code == 200
    assert reverse("partners:apply") in response.content.decode()


def test_the_portal_index_needs_a_login(client):
    response = client.get(reverse("merchants:portal"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_an_unknown_merchant_is_404(client):
    client.force_login(UserFactory())

    assert client.get(reverse("merchants:dashboard", kwargs={"merchant_id": 999999})).status_code == 404
