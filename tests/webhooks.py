"""Signed webhook deliveries for tests: the card network's scheme and Stripe's real one.

    from tests.webhooks import post_visa, post_stripe, visa_event

    response = post_visa(client, visa_event("transaction.auth", id="evt_1"), secret=settings.VISA_WEBHOOK_SECRET)

Each helper signs the exact bytes it sends. ``timestamp`` defaults to now.
"""

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from django.test import Client

from cashback.providers import visa_signature

PAYLOADS = Path(__file__).resolve().parent / "cashback" / "webhook_payloads"

VISA_SECRET = "whsec_test_visa_current"
VISA_SECRET_PREVIOUS = "whsec_test_visa_previous"
STRIPE_SECRET = "whsec_test_stripe_platform"
STRIPE_CONNECT_SECRET = "whsec_test_stripe_connect"


def load_payload(name: str) -> dict[str, Any]:
    """A JSON fixture from tests/cashback/webhook_payloads/ (``name`` without .json)."""
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def visa_event(event_type: str = "transaction.auth", **changes: Any) -> dict[str, Any]:
    """The auth fixture with another ``type`` and top-level fields replaced (``id=...``); ``data`` entries
    can be replaced with ``data={...}`` (merged)."""
    event = copy.deepcopy(load_payload("visa_transaction_auth"))
    event["type"] = event_type
    data = changes.pop("data", None)
    event.update(changes)
    if data:
        event["data"].update(data)
    return event


def encode(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()


def stripe_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme: ``t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_visa(client: Client, payload: Any, *, secret: str = VISA_SECRET, timestamp: int | None = None, **headers: str):
    body = encode(payload)
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = visa_signature.sign(body=body, secret=secret, timestamp=timestamp)
    return client.post(
        "/webhooks/visa/", data=body, content_type="application/json", headers={"Visa-Signature": signature, **headers}
    )


def post_stripe(
    client: Client,
    payload: Any,
    *,
    connect: bool = False,
    secret: str | None = None,
    timestamp: int | None = None,
):
    body = encode(payload)
    secret = secret or (STRIPE_CONNECT_SECRET if connect else STRIPE_SECRET)
    url = "/webhooks/stripe/connect/" if connect else "/webhooks/stripe/"
    return client.post(
        url,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_signature(body, secret, timestamp)},
    )
