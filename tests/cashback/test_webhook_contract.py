"""The documented body of each webhook type, checked at the door: a malformed event is a 400 once,
with ``fields`` naming what is wrong, and nothing is stored (no inbox row, no purchase) — so it is
never processed, failed and retried in the worker."""

import ast
import copy
import json
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from campaigns.management.commands.simulate_purchase import Command as SimulatePurchase
from campaigns.models import Purchase
from cashback import inbox
from cashback.models import WebhookEvent
from cashback.webhook_contract import EventContractError, stripe_event_check, visa_event_check
from tests.accounts.factories import CardFactory
from tests.campaigns.factories import LocationFactory, OfferFactory
from tests.webhooks import PAYLOADS, post_stripe, post_visa, visa_event

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
VISA_TYPES = ["transaction.auth", "transaction.clearing", "transaction.refund", "transaction.reversal"]


@pytest.fixture
def shop_and_card(webhook_secrets):
    """A linked card and a shop with a live offer: a valid event becomes a purchase (the real handlers)."""
    offer = OfferFactory(percent=Decimal("10"))
    return LocationFactory(merchant=offer.merchant), CardFactory()


def _event(shop_and_card, event_id: str = "evt_contract", **data: Any) -> dict[str, Any]:
    location, card = shop_and_card
    base = {
        "id": "txn_contract",
        "datetime": (timezone.now() - timedelta(minutes=3)).isoformat(),
        "card": {"token": card.network_token, "firstNumbers": "424242", "lastNumbers": "4242", "scheme": "visa"},
        "merchant": {"id": location.network_merchant_id, "name": "Shop"},
        "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
    }
    return visa_event("transaction.clearing", id=event_id, data={**base, **data})


def _refused(response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_event"
    return error["fields"]


def test_a_valid_event_still_becomes_a_purchase(shop_and_card):
    response = post_visa(_event(shop_and_card, amount="249.00"))

    assert response.status_code == 202
    assert inbox.event_process(event_id=WebhookEvent.objects.get().pk) == "processed"
    assert Purchase.objects.get().amount_minor == 24900


@pytest.mark.parametrize(
    "amount",
    ["1e10", "922337203685477.58", "0", "0.00", "-5", "12.345", 12.5, 249, None, "NaN", " 249.00", "249,00", ""],
)
def test_an_impossible_amount_is_refused_and_nothing_is_stored(shop_and_card, amount):
    fields = _refused(post_visa(_event(shop_and_card, amount=amount)))

    assert list(fields) == ["data.amount"]
    assert not WebhookEvent.objects.exists()
    assert not Purchase.objects.exists()


def test_a_missing_amount_is_named(shop_and_card):
    event = _event(shop_and_card)
    del event["data"]["amount"]

    assert list(_refused(post_visa(event))) == ["data.amount"]
    assert not WebhookEvent.objects.exists()


def test_the_maximum_per_purchase_is_the_setting(shop_and_card, settings):
    settings.MAX_PURCHASE_MINOR_BY_CURRENCY = {"NOK": 100_000}

    assert list(_refused(post_visa(_event(shop_and_card, amount="1000.01")))) == ["data.amount"]
    assert post_visa(_event(shop_and_card, amount="1000.00")).status_code == 202


def test_a_reversal_may_say_zero_but_the_other_kinds_may_not(shop_and_card):
    reversal = _event(shop_and_card, event_id="evt_rev", amount="0.00", originalTransactionId="txn_contract")
    reversal["type"] = "transaction.reversal"
    refund = _event(shop_and_card, event_id="evt_ref", amount="0.00", originalTransactionId="txn_contract")
    refund["type"] = "transaction.refund"

    assert post_visa(reversal).status_code == 202
    assert list(_refused(post_visa(refund))) == ["data.amount"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"currency": "USD"}, "data.currency"),
        ({"currency": "nok"}, "data.currency"),
        ({"currency": ["NOK"]}, "data.currency"),
        ({"id": ""}, "data.id"),
        ({"id": 17}, "data.id"),
        ({"id": "t" * 101}, "data.id"),
        ({"datetime": "yesterday"}, "data.datetime"),
        ({"datetime": "2026-13-45T10:00:00+01:00"}, "data.datetime"),
        ({"datetime": "2026-11-23T10:59:00"}, "data.datetime"),  # no offset
        ({"datetime": "1970-01-01T00:00:00+00:00"}, "data.datetime"),
        ({"datetime": "2999-01-01T00:00:00+00:00"}, "data.datetime"),
        ({"datetime": 1795428000}, "data.datetime"),
        ({"card": "ctok_1"}, "data.card"),
        ({"card": {"firstNumbers": "424242"}}, "data.card.token"),
        ({"card": {"token": "ctok_1", "lastNumbers": 4242}}, "data.card.lastNumbers"),
        ({"card": {"token": "x" * 129}}, "data.card.token"),
        ({"merchant": None}, "data.merchant"),
        ({"merchant": {"name": "Shop"}}, "data.merchant.id"),
        ({"merchant": {"id": "NM-1", "name": {"first": "Shop"}}}, "data.merchant.name"),
        ({"location": {"id": "s" * 65}}, "data.location.id"),
        ({"location": {"id": "ST-1", "postcode": 150}}, "data.location.postcode"),
        ({"originalTransactionId": ["txn_1"]}, "data.originalTransactionId"),
    ],
)
def test_a_missing_or_ill_typed_field_is_named_and_nothing_is_stored(shop_and_card, change, path):
    fields = _refused(post_visa(_event(shop_and_card, **change)))

    assert path in fields
    assert not WebhookEvent.objects.exists()
    assert not Purchase.objects.exists()


def test_every_problem_is_named_at_once(webhook_secrets):
    fields = _refused(post_visa({"id": "evt_bare", "type": "transaction.auth", "data": {"amount": "1e3"}}))

    assert {"data.id", "data.currency", "data.datetime", "data.card", "data.merchant", "data.location"} <= set(fields)


def test_without_data_time_the_event_time_will_do(shop_and_card):
    event = _event(shop_and_card, amount="10.00")
    del event["data"]["datetime"]
    event["created"] = (timezone.now() - timedelta(minutes=1)).isoformat()

    assert post_visa(event).status_code == 202


# --- Stripe -------------------------------------------------------------------------------------


def _stripe_fixture(path: Path, **object_changes: Any) -> dict[str, Any]:
    event = json.loads(path.read_text())
    event["data"]["object"].update(object_changes)
    return event


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"amount": "249.00"}, "data.object.amount"),
        ({"amount": 2**63}, "data.object.amount"),
        ({"amount": -1}, "data.object.amount"),
        ({"amount": 24900.0}, "data.object.amount"),
        ({"amount": None}, "data.object.amount"),
        ({"currency": 578}, "data.object.currency"),
        ({"created": 10**20}, "data.object.created"),
        ({"customer": ["cus_1"]}, "data.object.customer"),
        ({"billing_details": "person@example.com"}, "data.object.billing_details"),
        ({"paid": "yes"}, "data.object.paid"),
        ({"object": "invoice"}, "data.object.object"),
        ({"id": "ch_" + "x" * 100}, "data.object.id"),
    ],
)
def test_a_stripe_event_a_handler_takes_is_checked_the_same_way(webhook_secrets, change, path):
    event = _stripe_fixture(PAYLOADS / "stripe_charge_succeeded.json", **change)
    event["account"] = "acct_1"

    fields = _refused(post_stripe(event, connect=True))

    assert path in fields
    assert not WebhookEvent.objects.exists()


def test_a_stripe_amount_above_the_maximum_is_refused(webhook_secrets, settings):
    settings.MAX_PURCHASE_MINOR = 1_000_000
    event = _stripe_fixture(PAYLOADS / "stripe_charge_succeeded.json", amount=1_000_001)
    event["account"] = "acct_1"

    assert "data.object.amount" in _refused(post_stripe(event, connect=True))


def test_a_stripe_type_no_handler_takes_is_still_stored_as_ignored(webhook_secrets):
    event = {"id": "evt_other", "type": "customer.created", "created": "soon", "data": {"object": [1, "e", None]}}

    response = post_stripe(event)

    assert (response.status_code, response.json()) == (202, {"status": "ignored"})


def test_an_ill_typed_payout_event_is_refused(webhook_secrets):
    event = {
        "id": "evt_po",
        "type": "payout.paid",
        "account": "acct_1",
        "created": int(time.time()),
        "data": {"object": {"id": "po_1", "object": "payout", "metadata": ["payout", "7"]}},
    }

    assert "data.object.metadata" in _refused(post_stripe(event, connect=True))


# --- Every body the platform itself produces passes -----------------------------------------------


def _bench_event_body(relative: str) -> Any:
    """``event_body`` of a bench script, without running the script (it sets the environment at import)."""
    tree = ast.parse((ROOT / relative).read_text())
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "event_body")
    namespace: dict[str, Any] = {"json": json, "time": time, "RUN": "test"}
    exec(compile(ast.Module(body=[function], type_ignores=[]), relative, "exec"), namespace)
    return namespace["event_body"]


def _fixtures() -> list[Path]:
    folders = [PAYLOADS, ROOT / "tests" / "campaigns" / "stripe_events", ROOT / "tests" / "wallet" / "webhook_payloads"]
    return sorted(path for folder in folders for path in folder.glob("*.json"))


@pytest.mark.parametrize("path", _fixtures(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_webhook_fixture_of_the_suite_follows_the_contract(path):
    event = json.loads(path.read_text())
    check = visa_event_check if str(event.get("type", "")).startswith("transaction.") else stripe_event_check
    check(event, event_type=event["type"])  # raises EventContractError when not


def test_the_benchmarks_bodies_follow_the_contract():
    intake = _bench_event_body("bench/webhooks.py")
    end_to_end = _bench_event_body("bench/e2e.py")
    world = {"tokens": ["ctok_bench_1"], "hot": (1, "NM-1", ["ST-1", "ST-2"]), "spread": [(2, "NM-2", ["ST-0"])]}
    plans = [  # bench/e2e.py's scenarios: clearings at the hot merchant or another, auths, refunds
        {"type": "clearing", "txn": "txn_1", "amount": 10_000, "merchant": 0, "shop": 5},
        {"type": "clearing", "txn": "txn_2", "amount": 99_900, "merchant": 1, "shop": 0},
        {"type": "auth", "txn": "txn_3", "amount": 12_300, "merchant": 0, "shop": 1},
        {"type": "refund", "txn": "txn_4", "amount": 1_230, "merchant": 0, "shop": 1, "original": "txn_3"},
    ]

    bodies = [intake("evt_1", n) for n in (0, 899, 12345)]
    bodies += [end_to_end(world, f"evt_{n}", n, plan) for n, plan in enumerate(plans)]
    for body in bodies:
        event = json.loads(body)
        visa_event_check(event, event_type=event["type"])


@pytest.mark.parametrize("kind", ["auth", "clearing", "refund", "reversal"])
def test_simulate_purchase_sends_bodies_that_follow_the_contract(kind):
    event = SimulatePurchase._event(
        kind=kind,
        txn="txn_sim",
        amount="249.00",
        currency="NOK",
        bought_at=timezone.localtime() - timedelta(minutes=1),
        card={"token": "ctok_sim", "firstNumbers": "424242", "lastNumbers": "4242"},
        location={"merchant_id": "NM-1", "store_id": "ST-1", "name": "Shop", "postcode": "0150", "country": "NOR"},
    )

    visa_event_check(copy.deepcopy(event), event_type=event["type"])


def test_a_refusal_is_an_error_of_the_contract():
    with pytest.raises(EventContractError) as refused:
        visa_event_check({"data": {}}, event_type="transaction.auth")
    assert refused.value.http_status == 400
