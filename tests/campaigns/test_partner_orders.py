"""The partner orders API: POST /api/v1/partner/orders/ and its refunds, through HTTP.

Authentication by merchant API key, Idempotency-Key, validation (400 with field errors), customer
matching, and the purchase it becomes (line-item rules included)."""

import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from campaigns import services
from campaigns.errors import OrderNotFoundError, RefundExceedsOrderError
from campaigns.models import Purchase, Reward
from merchants.models import CustomerLink, PartnerRequest
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import LineItemRuleFactory, OfferFactory
from tests.concurrency import run_together
from tests.merchants.factories import LocationFactory, MerchantApiKeyFactory, api_key_headers

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/partner/orders/"
# One timestamp per test, taken when it starts (never at import, where it would be as old as the
# run by the time the test executes): a retry within a test must send the very same body.
OCCURRED_AT = ""


@pytest.fixture(autouse=True)
def _occurred_an_hour_ago(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "OCCURRED_AT", (timezone.now() - timedelta(hours=1)).isoformat())


@pytest.fixture
def api_key():
    return MerchantApiKeyFactory()


@pytest.fixture
def consumer():
    return UserFactory(email="kari.nordmann@example.com")


def _order(**overrides):
    body = {
        "order_id": "WEB-1001",
        "customer": {"email": "kari.nordmann@example.com"},
        "amount": "600.00",
        "currency": "NOK",
        "occurred_at": OCCURRED_AT,
        "line_items": [
            {"sku": "SHOE-42", "category": "shoes", "quantity": 1, "unit_amount": "500.00"},
            {"sku": "SOCK-3", "category": "socks", "quantity": 2, "amount": "100.00"},
        ],
    }
    body.update(overrides)
    return body


def _post(client, key, body, idempotency_key="idem-1", url=ORDERS):
    extra = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
    return client.post(url, body, content_type="application/json", **api_key_headers(key, **extra))


def _error(response):
    return response.json()["error"]


# --- Authentication and the Idempotency-Key --------------------------------------------------------


def test_without_a_key_the_answer_is_401(client, consumer):
    response = client.post(ORDERS, _order(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 401
    assert _error(response)["code"] == "not_authenticated"
    assert not Purchase.objects.exists()


def test_a_revoked_key_gets_401(client, consumer):
    key = MerchantApiKeyFactory(revoked_at=timezone.now())
    response = _post(client, key, _order())
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_api_key"


def test_a_logged_in_owner_without_a_key_gets_401(client, consumer, api_key):
    from tests.merchants.factories import MembershipFactory

    owner = MembershipFactory(merchant=api_key.merchant, role="owner")
    client.force_login(owner.user)
    response = client.post(ORDERS, _order(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 401


def test_without_an_idempotency_key_the_answer_is_400(client, api_key, consumer):
    response = _post(client, api_key, _order(), idempotency_key=None)
    assert response.status_code == 400
    assert _error(response)["code"] == "idempotency_key_required"
    assert not PartnerRequest.objects.exists()


def test_an_oversized_idempotency_key_is_400(client, api_key, consumer):
    response = _post(client, api_key, _order(), idempotency_key="k" * 256)
    assert response.status_code == 400
    assert _error(response)["code"] == "idempotency_key_required"


# --- Validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"order_id": ""}, "order_id"),
        ({"order_id": "has space"}, "order_id"),
        ({"order_id": "a/b"}, "order_id"),
        ({"order_id": "x" * 65}, "order_id"),
        ({"customer": {}}, "customer"),
        ({"customer": {"email": "not-an-email"}}, "customer"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"currency": "SEK"}, "currency"),  # not the merchant's currency
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": lambda: (timezone.now() + timedelta(days=1)).isoformat()}, "occurred_at"),
        ({"location_id": 999999}, "location_id"),
        ({"line_items": [{"category": "shoes"}]}, "line_items"),
        ({"line_items": [{"amount": "1.001"}]}, "line_items"),
        ({"line_items": [{"amount": "-1"}]}, "line_items"),
        ({"line_items": [{"amount": "10", "quantity": 0}]}, "line_items"),
        ({"line_items": [{"amount": "700.00"}]}, "line_items"),  # more than the order
        ({"line_items": "shoes"}, "line_items"),
    ],
)
def test_invalid_orders_get_400_with_the_field_and_change_nothing(client, api_key, consumer, overrides, field):
    overrides = {name: value() if callable(value) else value for name, value in overrides.items()}
    response = _post(client, api_key, _order(**overrides))

    assert response.status_code == 400, response.content
    error = _error(response)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert not Purchase.objects.exists()
    assert not PartnerRequest.objects.exists()


def test_a_missing_body_lists_every_required_field(client, api_key):
    response = _post(client, api_key, {})
    assert response.status_code == 400
    assert {"order_id", "customer", "amount", "currency", "occurred_at"} <= set(_error(response)["fields"])


def test_another_merchants_shop_is_not_accepted(client, api_key, consumer):
    other_shop = LocationFactory()
    response = _post(client, api_key, _order(location_id=other_shop.pk))
    assert response.status_code == 400
    assert "location_id" in _error(response)["fields"]


def test_an_unknown_customer_is_404_customer_not_found(client, api_key, consumer):
    response = _post(client, api_key, _order(customer={"email": "stranger@example.com"}))

    assert response.status_code == 404
    assert _error(response)["code"] == "customer_not_found"
    assert not Purchase.objects.exists()


# --- Orders become purchases ---------------------------------------------------------------------


def test_an_order_becomes_a_cleared_partner_purchase(client, api_key, consumer):
    shop = LocationFactory(merchant=api_key.merchant)

    response = _post(client, api_key, _order(location_id=shop.pk))

    assert response.status_code == 201, response.content
    body = response.json()
    purchase = Purchase.objects.get()
    assert body["order_id"] == "WEB-1001" and body["purchase_id"] == purchase.pk
    assert body["amount"] == "600.00" and body["currency"] == "NOK"
    assert purchase.source == "partner" and purchase.user == consumer and purchase.merchant == api_key.merchant
    assert purchase.location == shop
    assert purchase.amount_minor == 60000 and purchase.status == Purchase.Status.CLEARED
    assert purchase.external_id == f"{api_key.merchant_id}:WEB-1001"


def test_a_retry_with_the_same_key_replays_the_response(client, api_key, consumer):
    first = _post(client, api_key, _order())
    second = _post(client, api_key, _order())

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Purchase.objects.count() == 1


def test_the_same_key_with_another_order_is_a_conflict(client, api_key, consumer):
    _post(client, api_key, _order())
    response = _post(client, api_key, _order(amount="700.00"))
    assert response.status_code == 409
    assert _error(response)["code"] == "idempotency_conflict"
    assert Purchase.objects.get().amount_minor == 60000


def test_the_same_order_under_a_new_key_is_still_one_purchase(client, api_key, consumer):
    _post(client, api_key, _order(), idempotency_key="a")
    response = _post(client, api_key, _order(), idempotency_key="b")
    assert response.status_code == 201
    assert Purchase.objects.count() == 1


def test_the_same_order_id_with_another_amount_is_refused(client, api_key, consumer):
    _post(client, api_key, _order(), idempotency_key="a")
    response = _post(client, api_key, _order(amount="650.00"), idempotency_key="b")
    assert response.status_code == 409
    assert _error(response)["code"] == "order_already_reported"
    assert Purchase.objects.get().amount_minor == 60000


def test_order_ids_are_per_merchant(client, api_key, consumer):
    other_key = MerchantApiKeyFactory()
    assert _post(client, api_key, _order()).status_code == 201
    assert _post(client, other_key, _order()).status_code == 201
    assert Purchase.objects.count() == 2


def test_a_customer_reference_is_linked_on_the_first_email_match(client, api_key, consumer):
    customer = {"email": consumer.email.upper(), "reference": "crm-42"}
    assert _post(client, api_key, _order(customer=customer), idempotency_key="a").status_code == 201

    link = CustomerLink.objects.get()
    assert (link.merchant, link.source, link.external_id, link.user) == (
        api_key.merchant,
        "partner",
        "crm-42",
        consumer,
    )
    response = _post(
        client, api_key, _order(order_id="WEB-1002", customer={"reference": "crm-42"}), idempotency_key="b"
    )
    assert response.status_code == 201
    assert Purchase.objects.get(external_id__endswith="WEB-1002").user == consumer


def test_a_reference_of_another_merchant_does_not_match(client, api_key, consumer):
    CustomerLink.objects.create(
        merchant=MerchantApiKeyFactory().merchant,
        source="partner",
        external_id="crm-42",
        user=consumer,
        via="partner_api",
    )
    response = _post(client, api_key, _order(customer={"reference": "crm-42"}))
    assert response.status_code == 404


def test_the_merchant_can_link_a_reference_explicitly(client, api_key, consumer):
    response = client.post(
        "/api/v1/partner/customers/",
        {"email": consumer.email, "reference": "crm-7"},
        content_type="application/json",
        **api_key_headers(api_key),
    )
    assert response.status_code == 201
    assert response.json() == {"reference": "crm-7", "linked": True}
    assert CustomerLink.objects.get().via == "partner_api"


def test_linking_an_unknown_email_is_404(client, api_key):
    response = client.post(
        "/api/v1/partner/customers/",
        {"email": "nobody@example.com", "stripe_customer_id": "cus_123"},
        content_type="application/json",
        **api_key_headers(api_key),
    )
    assert response.status_code == 404
    assert not CustomerLink.objects.exists()


def test_reading_an_order(client, api_key, consumer):
    _post(client, api_key, _order())
    response = client.get(f"{ORDERS}WEB-1001/", **api_key_headers(api_key))
    assert response.status_code == 200
    assert response.json()["order_id"] == "WEB-1001"
    other = client.get(f"{ORDERS}WEB-1001/", **api_key_headers(MerchantApiKeyFactory()))
    assert other.status_code == 404
    assert _error(other)["code"] == "order_not_found"


# --- Line-item rules --------------------------------------------------------------------------------


def _rewards_of(purchase):
    return sum(Reward.objects.filter(purchase=purchase).values_list("amount_minor", flat=True))


def test_a_line_item_rule_rewards_only_the_matching_category(client, api_key, consumer):
    """10 % offer with a 20 % rule on "shoes": 500 kr shoes → 100 kr, 100 kr socks → 10 kr."""
    offer = OfferFactory(merchant=api_key.merchant, percent=Decimal("10.00"))
    LineItemRuleFactory(offer=offer, scope="category", key="Shoes", kind="percent", percent=Decimal("20.00"))

    response = _post(client, api_key, _order())

    assert response.status_code == 201, response.content
    purchase = Purchase.objects.get()
    assert _rewards_of(purchase) == 10000 + 1000
    assert response.json()["cashback"] == {"amount": "110.00", "currency": "NOK"}


def test_without_matching_lines_the_offer_percent_applies(client, api_key, consumer):
    offer = OfferFactory(merchant=api_key.merchant, percent=Decimal("10.00"))
    LineItemRuleFactory(offer=offer, scope="category", key="hats", kind="percent", percent=Decimal("50.00"))

    _post(client, api_key, _order())

    assert _rewards_of(Purchase.objects.get()) == 6000


# --- Refunds ----------------------------------------------------------------------------------------


def _refund(client, key, body, idempotency_key="refund-1", order_id="WEB-1001"):
    return _post(client, key, body, idempotency_key=idempotency_key, url=f"{ORDERS}{order_id}/refunds/")


def test_a_refund_claws_back_in_proportion(client, api_key, consumer):
    OfferFactory(merchant=api_key.merchant, percent=Decimal("10.00"))
    _post(client, api_key, _order())

    response = _refund(client, api_key, {"amount": "150.00", "refund_id": "R-1"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["refunded"] == "150.00" and body["refund_id"] == "R-1"
    purchase = Purchase.objects.get()
    assert purchase.refunded_minor == 15000
    assert _rewards_of(purchase) == 4500  # 10 % of the 450 kr kept


def test_a_refund_replay_is_applied_once(client, api_key, consumer):
    _post(client, api_key, _order())
    _refund(client, api_key, {"amount": "100.00"})
    again = _refund(client, api_key, {"amount": "100.00"})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Purchase.objects.get().refunded_minor == 10000


def test_two_refunds_with_their_own_keys_both_apply(client, api_key, consumer):
    _post(client, api_key, _order())
    _refund(client, api_key, {"amount": "100.00"}, idempotency_key="r1")
    _refund(client, api_key, {"amount": "100.00"}, idempotency_key="r2")
    assert Purchase.objects.get().refunded_minor == 20000


def test_a_refund_of_more_than_is_left_is_409(client, api_key, consumer):
    _post(client, api_key, _order())
    _refund(client, api_key, {"amount": "500.00"}, idempotency_key="r1")
    response = _refund(client, api_key, {"amount": "100.01"}, idempotency_key="r2")
    assert response.status_code == 409
    assert _error(response)["code"] == "refund_exceeds_order"
    assert Purchase.objects.get().refunded_minor == 50000


def test_a_refund_of_an_unknown_order_is_404(client, api_key, consumer):
    response = _refund(client, api_key, {"amount": "10.00"}, order_id="NOPE")
    assert response.status_code == 404
    assert _error(response)["code"] == "order_not_found"


@pytest.mark.parametrize("amount", ["0", "1.001", "-1", "abc"])
def test_an_invalid_refund_amount_is_400(client, api_key, consumer, amount):
    _post(client, api_key, _order())
    response = _refund(client, api_key, {"amount": amount})
    assert response.status_code == 400
    assert "amount" in _error(response)["fields"]


# --- Concurrency --------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_an_order_make_one_purchase():
    from django.test import Client

    key = MerchantApiKeyFactory()
    UserFactory(email="kari.nordmann@example.com")
    OfferFactory(merchant=key.merchant, percent=Decimal("10.00"))
    body = _order()

    results = run_together(lambda i: _post(Client(), key, body, idempotency_key="burst"), threads=10)

    assert [result.status_code for result in results] == [201] * 10
    assert all(result.json() == results[0].json() for result in results)
    assert Purchase.objects.count() == 1
    assert Reward.objects.count() == 1
    assert PartnerRequest.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_with_their_own_keys_never_exceed_the_order():
    """Two refunds of 400 kr of a 600 kr order, sent at once with different keys: the check runs
    under the purchase's row lock, so exactly one is applied and the other is refused."""
    from django.test import Client

    key = MerchantApiKeyFactory()
    UserFactory(email="kari.nordmann@example.com")
    OfferFactory(merchant=key.merchant, percent=Decimal("10.00"))
    assert _post(Client(), key, _order()).status_code == 201

    results = run_together(
        lambda i: _refund(Client(), key, {"amount": "400.00", "refund_id": f"R-{i}"}, idempotency_key=f"refund-{i}"),
        threads=2,
    )

    assert sorted(result.status_code for result in results) == [201, 409]
    refused = next(result for result in results if result.status_code == 409)
    assert _error(refused)["code"] == "refund_exceeds_order"
    purchase = Purchase.objects.get()
    assert purchase.refunded_minor == 40000
    assert purchase.refund_excess_minor == 0
    assert Reward.objects.get().amount_minor == 2000  # 10 % of the 200 kr left


def test_the_refund_service_refuses_more_than_is_left(api_key, consumer):
    _post(Client(), api_key, _order())
    services.partner_refund_record(
        merchant=api_key.merchant, order_id="WEB-1001", refund_id="R-1", amount_minor=50000, occurred_at=timezone.now()
    )

    with pytest.raises(RefundExceedsOrderError):
        services.partner_refund_record(
            merchant=api_key.merchant,
            order_id="WEB-1001",
            refund_id="R-2",
            amount_minor=10001,
            occurred_at=timezone.now(),
        )
    with pytest.raises(OrderNotFoundError):
        services.partner_refund_record(
            merchant=api_key.merchant, order_id="NOPE", refund_id="R-3", amount_minor=1, occurred_at=timezone.now()
        )
    assert Purchase.objects.get().refunded_minor == 50000
