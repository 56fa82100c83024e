"""Partner API keys: created and revoked by owners (audited), stored hashed, shown once; the bearer
authentication and the permission that partner endpoints use."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from merchants import services
from merchants.authentication import MerchantApiKeyAuthentication
from merchants.errors import ApiKeyNotFoundError, InvalidApiKeyNameError, TooManyApiKeysError
from merchants.models import AuditEvent, MerchantApiKey
from merchants.permissions import HasMerchantApiKey
from tests.merchants.factories import MembershipFactory, MerchantApiKeyFactory, MerchantFactory

pytestmark = pytest.mark.django_db


# --- Services ------------------------------------------------------------------------------------


def test_a_new_key_is_stored_only_as_its_hash_and_audited():
    owner = MembershipFactory(role="owner")

    key, plaintext = services.api_key_create(merchant=owner.merchant, actor=owner.user, name="  Web shop ")

    assert plaintext.startswith("mk_live_") and len(plaintext) >= 48
    assert key.secret_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert key.prefix == plaintext[:14]
    assert key.name == "Web shop"
    assert key.created_by == owner.user and key.revoked_at is None
    row = MerchantApiKey.objects.filter(pk=key.pk).values().get()
    assert plaintext not in str(row)
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.merchant == owner.merchant and event.actor == owner.user
    assert event.details == {"key_id": key.pk, "name": "Web shop", "prefix": key.prefix}
    assert plaintext not in str(event.details)


def test_each_key_is_different():
    merchant = MerchantFactory()
    plaintexts = {services.api_key_create(merchant=merchant, actor=None, name=f"k{i}")[1] for i in range(5)}
    assert len(plaintexts) == 5


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_key_needs_a_name(name):
    with pytest.raises(InvalidApiKeyNameError) as error:
        services.api_key_create(merchant=MerchantFactory(), actor=None, name=name)
    assert "name" in error.value.fields
    assert not MerchantApiKey.objects.exists()


def test_at_most_twenty_active_keys(settings):
    merchant = MerchantFactory()
    MerchantApiKeyFactory.create_batch(19, merchant=merchant)
    MerchantApiKeyFactory(merchant=merchant, revoked_at=timezone.now())  # revoked keys do not count
    services.api_key_create(merchant=merchant, actor=None, name="twentieth")

    with pytest.raises(TooManyApiKeysError):
        services.api_key_create(merchant=merchant, actor=None, name="one too many")


def test_revoking_records_who_and_when_once():
    owner = MembershipFactory(role="owner")
    key = MerchantApiKeyFactory(merchant=owner.merchant)

    services.api_key_revoke(key_id=key.pk, merchant=owner.merchant, actor=owner.user)
    again = services.api_key_revoke(key_id=key.pk, merchant=owner.merchant, actor=owner.user)

    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == owner.user
    assert again.revoked_at == key.revoked_at
    assert AuditEvent.objects.filter(action="api_key.revoked", merchant=owner.merchant).count() == 1


def test_another_merchants_key_cannot_be_revoked():
    key = MerchantApiKeyFactory()
    with pytest.raises(ApiKeyNotFoundError):
        services.api_key_revoke(key_id=key.pk, merchant=MerchantFactory(), actor=None)
    key.refresh_from_db()
    assert key.revoked_at is None


# --- Authentication and permission -----------------------------------------------------------------


class WhoAmI(APIView):
    authentication_classes = [MerchantApiKeyAuthentication]
    permission_classes = [HasMerchantApiKey]

    def get(self, request):
        return Response({"merchant": request.auth.merchant_id, "key": request.auth.pk})


def _call(authorization: str | None = None, **extra):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    request = APIRequestFactory().get("/api/v1/partner/whoami/", **headers, **extra)
    return WhoAmI.as_view()(request)


def test_a_valid_key_authenticates_as_its_merchant():
    key = MerchantApiKeyFactory()

    response = _call(f"Bearer {key.plaintext}")

    assert response.status_code == 200
    assert response.data == {"merchant": key.merchant_id, "key": key.pk}


def test_the_scheme_is_case_insensitive():
    key = MerchantApiKeyFactory()
    assert _call(f"bearer {key.plaintext}").status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer a b", "Bearer mk_live_unknown", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500],
    ids=["none", "empty", "no-key", "two-parts", "unknown", "basic", "huge"],
)
def test_missing_or_unknown_keys_get_401_with_the_json_error(authorization):
    MerchantApiKeyFactory()

    response = _call(authorization)
    response.render()

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.data["error"]
    assert body["code"] in {"invalid_api_key", "not_authenticated"}
    assert body["message"]


def test_a_revoked_key_is_refused_at_once():
    key = MerchantApiKeyFactory()
    assert _call(f"Bearer {key.plaintext}").status_code == 200

    services.api_key_revoke(key_id=key.pk, merchant=key.merchant, actor=None)

    response = _call(f"Bearer {key.plaintext}")
    assert response.status_code == 401
    assert response.data["error"]["code"] == "invalid_api_key"


def test_a_session_user_is_not_a_partner_system(client):
    """Even the merchant's owner, logged in, cannot call partner endpoints without a key."""
    owner = MembershipFactory(role="owner")
    request = APIRequestFactory().get("/api/v1/partner/whoami/")
    request.user = owner.user
    request._dont_enforce_csrf_checks = True
    response = WhoAmI.as_view()(request)
    assert response.status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(django_assert_max_num_queries):
    key = MerchantApiKeyFactory()
    _call(f"Bearer {key.plaintext}")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None

    with django_assert_max_num_queries(1):  # the look-up only; no UPDATE within the minute
        _call(f"Bearer {key.plaintext}")
    key.refresh_from_db()
    assert key.last_used_at == first

    MerchantApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    _call(f"Bearer {key.plaintext}")
    key.refresh_from_db()
    assert key.last_used_at > first


def test_keys_are_looked_up_by_hash_only(django_assert_num_queries):
    """No query compares or even contains the plaintext: the only secret in SQL is its hash."""
    key = MerchantApiKeyFactory(last_used_at=timezone.now())
    with django_assert_num_queries(1) as captured:
        _call(f"Bearer {key.plaintext}")
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert key.plaintext not in sql
    if connection.vendor == "postgresql":
        assert key.secret_hash in sql


# --- Portal pages ----------------------------------------------------------------------------------


@pytest.fixture
def owner_client(client):
    owner = MembershipFactory(role="owner")
    client.force_login(owner.user)
    client.owner = owner
    return client


def test_the_owner_sees_the_key_once(owner_client):
    merchant = owner_client.owner.merchant

    response = owner_client.post(reverse("merchants:api_key_create", args=[merchant.pk]), {"name": "Checkout"})

    assert response.status_code == 201
    key = MerchantApiKey.objects.get(merchant=merchant)
    plaintext = response.context["plaintext"]
    assert plaintext.encode() in response.content
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    listing = owner_client.get(reverse("merchants:api_keys", args=[merchant.pk]))
    assert listing.status_code == 200
    assert key.prefix.encode() in listing.content
    assert plaintext.encode() not in listing.content
    assert b"Checkout" in listing.content


def test_a_nameless_key_is_refused_with_the_form(owner_client):
    merchant = owner_client.owner.merchant
    response = owner_client.post(reverse("merchants:api_key_create", args=[merchant.pk]), {"name": " "})
    assert response.status_code == 400
    assert not MerchantApiKey.objects.exists()


def test_revoking_asks_first_then_revokes(owner_client):
    merchant = owner_client.owner.merchant
    key = MerchantApiKeyFactory(merchant=merchant, name="Old till")
    url = reverse("merchants:api_key_revoke", args=[merchant.pk, key.pk])

    confirm = owner_client.get(url)
    key.refresh_from_db()
    assert confirm.status_code == 200 and b"Revoke key" in confirm.content
    assert key.revoked_at is None

    response = owner_client.post(url)
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == owner_client.owner.user
    listing = owner_client.get(reverse("merchants:api_keys", args=[merchant.pk]))
    assert b"Revoked" in listing.content


def test_another_merchants_key_under_my_merchant_id_is_404(owner_client):
    other_key = MerchantApiKeyFactory()
    url = reverse("merchants:api_key_revoke", args=[owner_client.owner.merchant.pk, other_key.pk])
    assert owner_client.post(url).status_code == 404
    other_key.refresh_from_db()
    assert other_key.revoked_at is None


def test_only_owners_see_the_api_keys_link(client):
    manager = MembershipFactory(role="manager")
    owner = MembershipFactory(role="owner", merchant=manager.merchant)
    url = reverse("merchants:dashboard", args=[manager.merchant_id])
    link = reverse("merchants:api_keys", args=[manager.merchant_id]).encode()
    client.force_login(manager.user)
    assert link not in client.get(url).content
    client.force_login(owner.user)
    assert link in client.get(url).content
