"""Every portal URL x role x own/other merchant, and the staff review pages' permissions."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.models import OfferStatus
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.campaigns.factories import (
    ChallengeFactory,
    LineItemRuleFactory,
    MembershipFactory,
    MerchantFactory,
    OfferFactory,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class PortalUrl:
    name: str
    needs: tuple[str, ...]  # "offer", "challenge", "rule"
    method: str = "get"
    write: bool = False


PORTAL_URLS = [
    PortalUrl("list", ()),
    PortalUrl("create", (), write=True),
    PortalUrl("cost_preview", (), method="post", write=True),
    PortalUrl("detail", ("offer",)),
    PortalUrl("edit", ("offer",), write=True),
    PortalUrl("preview", ("offer",)),
    PortalUrl("duplicate", ("offer",), method="post", write=True),
    PortalUrl("submit", ("offer",), method="post", write=True),
    PortalUrl("pause", ("offer",), method="post", write=True),
    PortalUrl("resume", ("offer",), method="post", write=True),
    PortalUrl("line_rule_create", ("offer",), write=True),
    PortalUrl("line_rule_delete", ("offer", "rule"), method="post", write=True),
    PortalUrl("challenge_create", (), write=True),
    PortalUrl("challenge_edit", ("challenge",), write=True),
    PortalUrl("challenge_delete", ("challenge",), method="post", write=True),
]
ROLES = ["owner", "manager", "analyst", "non_member", "anonymous"]


def merchant_with_things():
    merchant = MerchantFactory()
    offer = OfferFactory(merchant=merchant, status=OfferStatus.DRAFT)
    return {
        "merchant": merchant,
        "offer": offer,
        "challenge": ChallengeFactory(offer=offer),
        "rule": LineItemRuleFactory(offer=offer),
    }


def url_for(portal_url: PortalUrl, things: dict, merchant=None) -> str:
    kwargs = {"merchant_id": (merchant or things["merchant"]).pk}
    for need in portal_url.needs:
        kwargs[f"{need}_id"] = things[need].pk
    return reverse(f"campaigns:{portal_url.name}", kwargs=kwargs)


@pytest.fixture
def world():
    return {"own": merchant_with_things(), "other": merchant_with_things()}


def client_as(client, role: str, merchant):
    if role == "anonymous":
        return client
    user = UserFactory()
    if role != "non_member":
        MembershipFactory(merchant=merchant, user=user, role=role)
    client.force_login(user)
    return client


def expected_status(portal_url: PortalUrl, role: str, whose: str) -> set[int]:
    if role == "anonymous":
        return {302}
    if role == "non_member" or whose == "other":
        return {404}
    if portal_url.write and role == "analyst":
        return {403}
    return {200, 302} if portal_url.method == "post" else {200}


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("portal_url", PORTAL_URLS, ids=[u.name for u in PORTAL_URLS])
def test_portal_permission_matrix(client, world, portal_url, role, whose):
    client = client_as(client, role, world["own"]["merchant"])
    url = url_for(portal_url, world[whose])

    response = getattr(client, portal_url.method)(url)

    assert response.status_code in expected_status(portal_url, role, whose), (url, response.status_code)
    if role == "anonymous":
        assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("portal_url", [u for u in PORTAL_URLS if u.needs], ids=lambda u: u.name)
def test_own_merchant_id_with_another_merchants_offer_is_not_found(client, world, portal_url):
    client = client_as(client, "owner", world["own"]["merchant"])

    url = url_for(portal_url, world["other"], merchant=world["own"]["merchant"])

    assert getattr(client, portal_url.method)(url).status_code == 404


@pytest.mark.parametrize(
    "portal_url", [u for u in PORTAL_URLS if u.method == "post" and u.name != "cost_preview"], ids=lambda u: u.name
)
def test_post_only_actions_refuse_get(client, world, portal_url):
    client = client_as(client, "owner", world["own"]["merchant"])

    assert client.get(url_for(portal_url, world["own"])).status_code == 405


def test_another_merchants_offer_is_never_listed(client, world):
    client = client_as(client, "analyst", world["own"]["merchant"])

    page = client.get(reverse("campaigns:list", args=[world["own"]["merchant"].pk])).content.decode()

    assert world["own"]["offer"].title in page
    assert world["other"]["offer"].title not in page


# --- Staff review ----------------------------------------------------------------------------

STAFF_URLS = [("queue", False, "get"), ("review", True, "get"), ("decide", True, "post")]


def staff_with_permission(permission: bool):
    user = StaffUserFactory(mfa=True)
    if permission:
        user.user_permissions.add(Permission.objects.get(codename="change_offer", content_type__app_label="campaigns"))
    return user


@pytest.mark.parametrize(("name", "needs_offer", "method"), STAFF_URLS)
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", {302}),
        ("consumer", {403}),
        ("merchant_owner", {403}),
        ("staff_without_permission", {403}),
        ("staff_with_permission", {200, 302, 400}),
    ],
)
def test_staff_review_permissions(client, name, needs_offer, method, who, expected):
    offer = OfferFactory(status=OfferStatus.IN_REVIEW)
    if who == "consumer":
        client.force_login(UserFactory())
    elif who == "merchant_owner":
        client.force_login(MembershipFactory(merchant=offer.merchant, role="owner").user)
    elif who.startswith("staff"):
        client.force_login(staff_with_permission(who == "staff_with_permission"))
    url = reverse(f"campaigns_staff:{name}", args=[offer.pk] if needs_offer else [])

    response = getattr(client, method)(url, {"decision": "approve"} if method == "post" else None)

    assert response.status_code in expected


def test_staff_without_mfa_are_sent_to_set_it_up(client):
    user = StaffUserFactory()
    user.user_permissions.add(Permission.objects.get(codename="change_offer", content_type__app_label="campaigns"))
    client.force_login(user)

    response = client.get(reverse("campaigns_staff:queue"))

    assert response.status_code == 302
    assert reverse("mfa_activate_totp") in response["Location"]
