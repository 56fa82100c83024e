"""`manage.py simulate_purchase`: signed card-network events, checked at the HTTP call and against a live server."""

import json
import time
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campaigns.management.commands import simulate_purchase
from cashback.providers import visa_signature
from tests.accounts.factories import CardFactory, UserFactory, enrolled_token
from tests.merchants.factories import LocationFactory

pytestmark = pytest.mark.django_db

SECRET = "simulate-purchase-test-secret"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.VISA_WEBHOOK_SECRET = SECRET


class Answer:
    def __init__(self, status: int = 202, text: str = '{"status": "received"}') -> None:
        self.status_code = status
        self.text = text


@pytest.fixture
def sent(monkeypatch):
    """The HTTP requests the command makes, answered 202 without any network."""
    calls: list[dict] = []

    def post(url, *, data, headers, timeout):
        calls.append({"url": url, "body": data, "headers": headers})
        return Answer()

    monkeypatch.setattr(simulate_purchase.requests, "post", post)
    return calls


def _run(*args: str) -> str:
    out = StringIO()
    call_command("simulate_purchase", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_events_are_signed_and_shaped_as_the_contract_says(sent):
    card = CardFactory(user=UserFactory(email="shopper@example.com"))
    shop = LocationFactory(postcode="0150")

    output = _run(
        "--user",
        "shopper@example.com",
        "--merchant-id",
        shop.network_merchant_id,
        "--store-id",
        shop.network_store_id,
        "--amount",
        "249.00",
        "--currency",
        "NOK",
        "--events",
        "auth,clearing,refund",
        "--refund-amount",
        "49.5",
        "--url",
        "http://server.test:8000/",
    )

    assert [call["url"] for call in sent] == ["http://server.test:8000/webhooks/visa/"] * 3
    events = []
    for call in sent:
        assert call["headers"]["Content-Type"] == "application/json"
        visa_signature.verify(
            header=call["headers"]["Visa-Signature"], body=call["body"], secrets=[SECRET], now=int(time.time())
        )
        events.append(json.loads(call["body"]))
    auth, clearing, refund = events
    assert [event["type"] for event in events] == ["transaction.auth", "transaction.clearing", "transaction.refund"]
    assert len({event["id"] for event in events}) == 3 and all(event["id"].startswith("evt_") for event in events)
    assert auth["data"]["id"] == clearing["data"]["id"] != refund["data"]["id"]
    assert refund["data"]["originalTransactionId"] == auth["data"]["id"]
    assert "originalTransactionId" not in auth["data"]
    assert [event["data"]["amount"] for event in events] == ["249.00", "249.00", "49.50"]
    assert auth["data"]["currency"] == "NOK"
    assert auth["data"]["card"] == {
        "token": card.network_token,
        "firstNumbers": card.first_six,
        "lastNumbers": card.last_four,
        "scheme": "visa",
    }
    assert auth["data"]["merchant"] == {"id": shop.network_merchant_id, "name": shop.merchant.display_name}
    assert auth["data"]["location"] == {"id": shop.network_store_id, "postcode": "0150", "countryCode": "NOR"}
    assert auth["created"].endswith("Z")
    assert datetime.fromisoformat(auth["data"]["datetime"]).tzinfo is not None
    assert "HTTP 202" in output and auth["data"]["id"] in output


def test_a_card_token_and_a_shop_by_id_work_too_with_the_shops_currency(sent):
    card = CardFactory()
    shop = LocationFactory()

    _run("--card-token", card.network_token, "--location", str(shop.pk), "--amount", "10", "--events", "auth")

    (event,) = [json.loads(call["body"]) for call in sent]
    assert event["data"]["card"]["token"] == card.network_token
    assert event["data"]["merchant"]["id"] == shop.network_merchant_id
    assert event["data"]["currency"] == shop.merchant.currency and event["data"]["amount"] == "10.00"


def test_a_token_nobody_linked_is_sent_with_a_warning_so_the_unmatched_path_can_be_tried(sent):
    shop = LocationFactory()
    token = enrolled_token("4000056655665556")

    _run("--card-token", token, "--location", str(shop.pk), "--amount", "5")

    assert [json.loads(call["body"])["data"]["card"]["lastNumbers"] for call in sent] == ["5556", "5556"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody@example.com", "--amount", "10"], "No user"),
        (["--user", "cardless@example.com", "--amount", "10"], "has no linked card"),
        (["--card-token", "ctok_unknown", "--amount", "10"], "does not know the token"),
        (["--user", "shopper@example.com", "--amount", "12.345"], "--amount"),
        (["--user", "shopper@example.com", "--amount", "-5"], "--amount"),
        (["--user", "shopper@example.com", "--amount", "lots"], "--amount"),
        (["--user", "shopper@example.com", "--amount", "5", "--currency", "XYZ"], "--amount"),
        (["--user", "shopper@example.com", "--amount", "5", "--events", "auth,purchase"], "--events"),
        (["--user", "shopper@example.com", "--amount", "5", "--refund-amount", "0"], "--refund-amount"),
        (["--user", "shopper@example.com", "--amount", "5", "--merchant-id", "NM1"], "both --merchant-id"),
        (["--user", "shopper@example.com", "--amount", "5", "--location", "999999"], "No shop with id"),
    ],
)
def test_bad_input_is_a_clear_error_and_nothing_is_sent(sent, args, message):
    CardFactory(user=UserFactory(email="shopper@example.com"))
    UserFactory(email="cardless@example.com")
    LocationFactory()

    with pytest.raises(CommandError, match=message.replace("-", r"\-")):
        _run(*args)
    assert sent == []


def test_without_a_secret_nothing_is_sent(sent, settings):
    settings.VISA_WEBHOOK_SECRET = ""
    CardFactory(user=UserFactory(email="shopper@example.com"))
    LocationFactory()

    with pytest.raises(CommandError, match="VISA_WEBHOOK_SECRET"):
        _run("--user", "shopper@example.com", "--amount", "5")
    assert sent == []


def test_refused_events_make_the_command_fail(monkeypatch):
    CardFactory(user=UserFactory(email="shopper@example.com"))
    LocationFactory()
    monkeypatch.setattr(simulate_purchase.requests, "post", lambda *a, **k: Answer(400, '{"error": {}}'))

    with pytest.raises(CommandError, match="2 of 2 events were refused"):
        _run("--user", "shopper@example.com", "--amount", "5")


def test_an_unreachable_server_is_a_clear_error():
    CardFactory(user=UserFactory(email="shopper@example.com"))
    LocationFactory()

    with pytest.raises(CommandError, match="Is the server running"):
        _run("--user", "shopper@example.com", "--amount", "5", "--url", "http://127.0.0.1:9", "--timeout", "2")


@pytest.mark.django_db(transaction=True)
def test_a_running_server_accepts_the_events_and_records_the_purchase(live_server):
    from campaigns.models import Purchase
    from cashback.models import WebhookEvent

    card = CardFactory(user=UserFactory(email="shopper@example.com"))
    shop = LocationFactory()

    output = _run(
        "--user", "shopper@example.com", "--location", str(shop.pk), "--amount", "249.00", "--url", live_server.url
    )

    assert output.count("-> HTTP 202") == 2
    events = WebhookEvent.objects.filter(source="visa").order_by("id")
    assert [event.event_type for event in events] == ["transaction.auth", "transaction.clearing"]
    purchase = Purchase.objects.get(user=card.user)
    assert purchase.amount_minor == 24900 and purchase.merchant_id == shop.merchant_id
