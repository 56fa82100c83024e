"""Fuzzing every JSON door: generated bodies, validly signed or authenticated, never give a 5xx, and a
refusal (4xx) stores nothing.

The doors: the three webhook doors (signed), every POST/PUT/PATCH of the REST API as the OpenAPI
schema lists it (the partner API with a merchant key and a fresh Idempotency-Key, the consumer API
logged in), and allauth's headless sign-up, login and password reset. Bodies start from a valid body
of the door (the webhook fixtures; for the API, one built from the schema) and are mutated: a field
replaced by a value of another type, a huge or tiny number, an exponent string, unicode (NUL, lone
surrogates, other scripts), a card number, a deep nesting, a field removed or added; or the body is
replaced by any JSON value or by bytes that are not JSON.

"Stores nothing" is checked by counting the rows of every table before and after. Two refusals keep a
row by design: the partner API's idempotency record of a refused *operation* (a retry must get the
same answer; a request refused by validation stores none), and allauth's 401 after a sign-up or a
password-reset request, which means "account created, verify the address next" or "code sent, enter
it next" (a pending flow kept in the session), not a refusal.

Deterministic: ``derandomize=True``, bounded examples. Depths of thousands of levels are in
``test_a_very_deep_body_is_refused_at_every_door`` (the JSON doors' depth bound, ``JSON_MAX_DEPTH``).
"""

import copy
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cashback import inbox
from cashback.models import WebhookEvent, WebhookSource, WebhookStatus
from cashback.providers import visa_signature
from merchants.models import PartnerRequest
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantApiKeyFactory, MerchantFactory, api_key_headers
from tests.webhooks import PAYLOADS, STRIPE_CONNECT_SECRET, STRIPE_SECRET, door, load_payload, stripe_signature
from tests.webhooks import VISA_SECRET as VISA

pytestmark = pytest.mark.django_db(transaction=False)

CARD_NUMBERS = ["4111111111111111", "4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005"]
NASTY_TEXT = [
    "1e10", "1E-7", "922337203685477.58", "0", "-5", "12.345", "NaN", "Infinity", "-0", "0x1F", "١٢٣",
    "\x00", "a\x00b", "\ud800", "\udfff", "\U0001f4a9", "\u202e", "Ω≈ç√", "", " ", "\t\n", "x" * 300,
    "2026-02-30T10:00:00+01:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "<script>", "' OR 1=1 --",
    *CARD_NUMBERS,
]  # fmt: skip
NUMBERS = [0, -1, 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**30, 1e308, -1e308, 5e-324, -0.0, 12.5]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from(NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(NASTY_TEXT),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def nested(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def encode(body: Any) -> bytes:
    # ensure_ascii: a lone surrogate goes out as a \ud800 escape, as an attacker would send it
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a body (keys and list indexes), the root excluded."""
    found: list[tuple] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _parent(body: Any, path: tuple) -> Any:
    for key in path[:-1]:
        body = body[key]
    return body


def fuzzed_body(draw: Callable, template: Any) -> Any:
    """A mutation of ``template`` (usually), or any JSON value, or bytes that are not JSON."""
    kind = draw(st.sampled_from(["mutate"] * 6 + ["any", "bytes"]))
    if kind == "any":
        return draw(json_values)
    if kind == "bytes":
        return draw(st.sampled_from([b"", b"{", b"[1,", b'{"a":NaN}', b'{"a":1e999}', b"\xff\xfe", b"null"]))
    body = copy.deepcopy(template)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(body)
        operation = draw(st.sampled_from(["replace", "replace", "delete", "nest", "add"] if paths else ["add"]))
        if operation == "add":
            if isinstance(body, dict):
                body[draw(st.sampled_from(["extra", "id", "amount", *NASTY_TEXT[:5]]))] = draw(json_values)
            continue
        path = draw(st.sampled_from(paths))
        parent = _parent(body, path)
        if operation == "delete":
            del parent[path[-1]]
        elif operation == "nest":
            parent[path[-1]] = nested(draw(scalars), draw(st.integers(min_value=2, max_value=100)))
        else:
            parent[path[-1]] = draw(json_values)
    return body


# --- Counting what is stored ------------------------------------------------------------------------


def _row_counts() -> dict[str, int]:
    tables = sorted(connection.introspection.table_names(include_views=False))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {quote(table)})" for table in tables))
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {table: (before[table], after[table]) for table in before if before[table] != after[table]}


def assert_safe(status: int, content: bytes, changed: dict[str, tuple[int, int]], *, keeps: frozenset = frozenset()):
    assert status < 500, content[:500]
    if 400 <= status < 500:
        assert set(changed) <= keeps, (status, content[:300], changed)


HYPOTHESIS = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def webhook_secrets(settings):
    settings.VISA_WEBHOOK_SECRET = VISA
    settings.VISA_WEBHOOK_SECRET_PREVIOUS = ""
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET


# --- The webhook doors ------------------------------------------------------------------------------


def _webhook_templates() -> dict[str, Any]:
    connect = json.loads((PAYLOADS / "stripe_charge_succeeded.json").read_text())
    connect["account"] = "acct_fuzz"
    platform = json.loads(
        (PAYLOADS.parent.parent / "wallet" / "webhook_payloads" / "stripe_transfer_reversed.json").read_text()
    )
    return {"/webhooks/visa/": load_payload("visa_transaction_auth"), "/webhooks/stripe/": platform,
            "/webhooks/stripe/connect/": connect}  # fmt: skip


SOURCES = {
    "/webhooks/visa/": WebhookSource.VISA,
    "/webhooks/stripe/": WebhookSource.STRIPE,
    "/webhooks/stripe/connect/": WebhookSource.STRIPE_CONNECT,
}


def _signed(path: str, body: bytes) -> dict[str, str]:
    if path == "/webhooks/visa/":
        return {"Visa-Signature": visa_signature.sign(body=body, secret=VISA, timestamp=int(time.time()))}
    secret = STRIPE_CONNECT_SECRET if path.endswith("connect/") else STRIPE_SECRET
    return {"Stripe-Signature": stripe_signature(body, secret)}


@settings(HYPOTHESIS, max_examples=200)
@given(data=st.data())
def test_the_webhook_doors_never_fail_and_store_nothing_they_refuse(webhook_secrets, data):
    templates = _webhook_templates()
    path = data.draw(st.sampled_from(sorted(templates)))
    template = templates[path]
    template["id"] = f"evt_fuzz_{uuid.uuid4().hex}"
    body = encode(fuzzed_body(data.draw, template))

    before = _row_counts()
    response = door.post(path, data=body, headers=_signed(path, body))

    assert_safe(response.status_code, response.content, _changed(before, _row_counts()))
    if response.status_code == 202:  # accepted: processing may park or ignore it, never fail and retry
        event = WebhookEvent.objects.get(event_id=json.loads(body)["id"], source=SOURCES[path])
        assert inbox.event_process(event_id=event.pk) != WebhookStatus.FAILED, event.payload


# --- The REST API, from its OpenAPI schema ---------------------------------------------------------------


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value of an OpenAPI schema: the start of a mutation, not necessarily a valid body."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth)
    if "enum" in schema:
        return schema["enum"][0]
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in schema:
            return _example(schema[combined][0], components, depth)
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {}) if depth < 4 else {}
        return {name: _example(prop, components, depth + 1) for name, prop in properties.items()}
    if kind == "array":
        return [_example(schema.get("items", {}), components, depth + 1)]
    return {"integer": 1, "number": 1, "boolean": True}.get(kind, "10.00" if "amount" in str(schema) else "x")


def _api_doors() -> list[tuple[str, str, bool, Any]]:
    """(method, path, partner?, template) for every POST/PUT/PATCH under /api/ in the schema."""
    schema = _schema()
    components = schema.get("components", {}).get("schemas", {})
    doors = []
    for path, operations in sorted(schema["paths"].items()):
        for method in ("post", "put", "patch"):
            if method not in operations:
                continue
            operation = operations[method]
            partner = any("merchantApiKey" in item for item in operation.get("security", []))
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            template = _example(content["schema"], components) if "schema" in content else {}
            concrete = path.replace("{order_id}", "WEB-1").replace("{hold_id}", "1")
            doors.append((method, concrete, partner, template))
    return doors


@pytest.fixture
def api_clients(db):
    consumer = Client()
    consumer.force_login(UserFactory())
    key = MerchantApiKeyFactory(merchant=MerchantFactory(currency="NOK"))
    return consumer, key


def test_the_schema_lists_the_doors_the_fuzz_must_reach():
    doors = {(method, path) for method, path, _, _ in _api_doors()}

    assert {("post", "/api/v1/partner/orders/"), ("post", "/api/v1/partner/spend/holds/")} <= doors
    assert {("post", "/api/v1/payouts/"), ("patch", "/api/v1/me/"), ("post", "/api/v1/donations/")} <= doors


@settings(HYPOTHESIS, max_examples=200)
@given(data=st.data())
def test_the_rest_api_never_fails_and_stores_nothing_it_refuses(api_clients, data):
    consumer, key = api_clients
    method, path, partner, template = data.draw(st.sampled_from(_API_DOORS))
    body = encode(fuzzed_body(data.draw, template))
    client = Client() if partner else consumer
    headers = api_key_headers(key, **{"Idempotency-Key": uuid.uuid4().hex}) if partner else {}

    before = _row_counts()
    response = getattr(client, method)(path, data=body, content_type="application/json", **headers)

    changed = _changed(before, _row_counts())
    keeps = frozenset({PartnerRequest._meta.db_table}) if partner and _refused_by_operation(response) else frozenset()
    assert_safe(response.status_code, response.content, changed, keeps=keeps)


def _refused_by_operation(response) -> bool:
    """A partner request refused by its operation (not by validation) keeps its idempotency record."""
    try:
        return response.json()["error"]["code"] != "invalid"
    except (ValueError, KeyError, TypeError):
        return False


_API_DOORS: list = []


@pytest.fixture(autouse=True)
def _discover_api_doors(db):
    """The schema is built once per process (it needs the URLconf, not the database), never at import."""
    if not _API_DOORS:
        _API_DOORS.extend(_api_doors())


# --- allauth's headless API ----------------------------------------------------------------------------

ALLAUTH_DOORS = {
    "/_allauth/app/v1/auth/signup": {"email": "fuzz@example.com", "password": "a-long-pass-phrase-2026"},
    "/_allauth/app/v1/auth/login": {"email": "fuzz@example.com", "password": "a-long-pass-phrase-2026"},
    "/_allauth/app/v1/auth/password/request": {"email": "fuzz@example.com"},
}


@settings(HYPOTHESIS, max_examples=60)
@given(data=st.data())
def test_the_headless_auth_endpoints_never_fail_and_store_nothing_they_refuse(db, data):
    path = data.draw(st.sampled_from(sorted(ALLAUTH_DOORS)))
    body = encode(fuzzed_body(data.draw, ALLAUTH_DOORS[path]))

    before = _row_counts()
    response = Client().post(path, data=body, content_type="application/json")

    changed = _changed(before, _row_counts())
    if response.status_code == 401 and path.endswith(("/signup", "/password/request")):
        return  # allauth's "created, now verify" and "code sent, now enter it" (a pending flow): not refusals
    assert_safe(response.status_code, response.content, changed)


# --- Depth: the JSON doors' nesting bound (JSON_MAX_DEPTH) ----------------------------------------


@pytest.mark.parametrize(
    "path", ["/webhooks/visa/", "/api/v1/partner/orders/", "/api/v1/me/", "/_allauth/app/v1/auth/login"]
)
def test_a_very_deep_body_is_refused_at_every_door(webhook_secrets, api_clients, path):
    consumer, key = api_clients
    body = b'{"a":[' * 2500 + b'"x"' + b"]}" * 2500  # 5 000 levels (json.dumps itself cannot write it)
    before = _row_counts()
    if path.startswith("/webhooks/"):
        response = door.post(path, data=body, headers=_signed(path, body))
        status, content = response.status_code, response.content
    else:
        headers = api_key_headers(key, **{"Idempotency-Key": "deep"}) if "partner" in path else {}
        client = consumer if path == "/api/v1/me/" else Client()
        method = client.patch if path == "/api/v1/me/" else client.post
        answer = method(path, data=body, content_type="application/json", **headers)
        status, content = answer.status_code, answer.content

    assert 400 <= status < 500
    assert_safe(status, content, _changed(before, _row_counts()))
