"""Amounts at the partner API (orders, refunds, spend holds): the webhook doors' parser
(cashback.amounts), a 400 naming the field, and nothing stored — not even the idempotency record."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Purchase
from merchants.models import PartnerRequest
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantApiKeyFactory, MerchantFactory, api_key_headers
from tests.wallet.factories import fund
from wallet import spending
from wallet.models import AccountKind, Hold
from wallet.services import account_get_or_create

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/partner/orders/"
HOLDS = "/api/v1/partner/spend/holds/"
IMPOSSIBLE = [
    "1e10",
    "922337203685477.58",
    "1000000.01",
    "0",
    "-5",
    "12.345",
    12.5,
    " 12.00",
    "NaN",
    "\uff11\uff12",
]  # fullwidth digits


@pytest.fixture
def api_key():
    return MerchantApiKeyFactory(merchant=MerchantFactory(currency="NOK"))


def _post(client, key, url, body):
    headers = api_key_headers(key, **{"Idempotency-Key": uuid.uuid4().hex})
    return client.post(url, body, content_type="application/json", **headers)


def _order(**overrides):
    return {
        "order_id": "WEB-1",
        "customer": {"email": "kari@example.com"},
        "amount": "600.00",
        "currency": "NOK",
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        **overrides,
    }


def _fields(response):
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


@pytest.mark.parametrize("amount", IMPOSSIBLE)
def test_an_order_with_an_impossible_amount_is_refused_and_nothing_is_stored(client, api_key, amount):
    UserFactory(email="kari@example.com")

    assert "amount" in _fields(_post(client, api_key, ORDERS, _order(amount=amount)))
    assert not Purchase.objects.exists()
    assert not PartnerRequest.objects.exists()


@pytest.mark.parametrize("amount", ["1e2", "-1.00", "1.001", 5])
def test_an_impossible_line_amount_is_named_by_its_line(client, api_key, amount):
    UserFactory(email="kari@example.com")
    lines = [{"sku": "A", "amount": "0.00"}, {"sku": "B", "unit_amount": amount}]

    fields = _fields(_post(client, api_key, ORDERS, _order(line_items=lines)))

    # DRF names a line by its index ({"1": ...}) for a field's own error, the order's check by position.
    lines_at_fault = fields["line_items"]
    second = lines_at_fault[1] if isinstance(lines_at_fault, list) else lines_at_fault["1"]
    assert "unit_amount" in second
    assert "0" not in lines_at_fault if isinstance(lines_at_fault, dict) else lines_at_fault[0] == {}
    assert not Purchase.objects.exists()


@pytest.mark.parametrize("amount", IMPOSSIBLE)
def test_a_refund_with_an_impossible_amount_is_refused(client, api_key, amount):
    UserFactory(email="kari@example.com")
    assert _post(client, api_key, ORDERS, _order()).status_code == 201
    stored = PartnerRequest.objects.count()

    response = _post(client, api_key, f"{ORDERS}WEB-1/refunds/", {"amount": amount})

    assert "amount" in _fields(response)
    assert PartnerRequest.objects.count() == stored
    assert Purchase.objects.get().refunded_minor == 0


@pytest.mark.parametrize("amount", IMPOSSIBLE)
def test_a_spend_hold_with_an_impossible_amount_stores_nothing(client, api_key, amount):
    user = UserFactory()
    fund(account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK"), 30000)
    code = spending.spend_code_issue(user=user, currency="NOK")

    response = _post(client, api_key, HOLDS, {"code": code.code, "amount": amount, "currency": "NOK"})

    assert "amount" in _fields(response)
    assert not Hold.objects.exists()
    assert not PartnerRequest.objects.exists()


def test_a_capture_with_an_impossible_amount_stores_nothing(client, api_key):
    user = UserFactory()
    fund(account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK"), 30000)
    code = spending.spend_code_issue(user=user, currency="NOK")
    hold = _post(client, api_key, HOLDS, {"code": code.code, "amount": "100.00", "currency": "NOK"}).json()
    stored = PartnerRequest.objects.count()

    response = _post(client, api_key, f"{HOLDS}{hold['id']}/capture/", {"amount": "1e1"})

    assert "amount" in _fields(response)
    assert PartnerRequest.objects.count() == stored
