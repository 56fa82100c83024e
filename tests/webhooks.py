"""Signed webhook deliveries for tests: the card network's scheme and Stripe's real one.

    from tests.webhooks import door, post_visa, post_stripe, visa_event

    response = post_visa(visa_event("transaction.auth", id="evt_1"), secret=settings.VISA_WEBHOOK_SECRET)
    response = door.post("/webhooks/visa/", data=b"...", headers={"Visa-Signature": "..."})

Deliveries go through the production WSGI entry point (cashback.wsgi.application, whose webhook
doors sit in front of Django), called in the test's thread so that they share its database
connection and transaction. Each helper signs the exact bytes it sends. ``timestamp`` defaults to now.
"""

import copy
import hashlib
import hmac
import io
import json
import time
from pathlib import Path
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils.datastructures import CaseInsensitiveMapping

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


class DoorResponse:
    """What a test reads of an answer: ``status_code``, ``content``, ``json()`` and ``response["Header"]``."""

    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = CaseInsensitiveMapping(dict(headers))
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)

    def __getitem__(self, header: str) -> str:
        return self.headers[header]


class DoorClient:
    """Calls the production WSGI application in the current thread, like Django's test Client."""

    def request(self, method: str, path: str, *, data: bytes = b"", headers: dict[str, str] | None = None, **environ):
        from cashback.wsgi import application

        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SCRIPT_NAME": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": io.StringIO(),
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in (headers or {}).items()},
            **environ,
        }
        answer: list = []

        def start_response(status: str, headers: list, exc_info=None) -> None:
            answer.extend([status, headers])

        # As Django's test Client does: a request must not close the test's connection (its transaction).
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            chunks = application(environ, start_response)
            content = b"".join(chunks)
            getattr(chunks, "close", lambda: None)()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return DoorResponse(answer[0], answer[1], content)

    def post(self, path: str, *, data: bytes = b"", headers: dict[str, str] | None = None, **environ):
        return self.request("POST", path, data=data, headers=headers, **environ)

    def get(self, path: str, *, headers: dict[str, str] | None = None, **environ):
        return self.request("GET", path, headers=headers, **environ)


door = DoorClient()


def signed_visa_headers(body: bytes, *, secret: str = VISA_SECRET, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"Visa-Signature": visa_signature.sign(body=body, secret=secret, timestamp=timestamp)}


def post_visa(payload: Any, *, secret: str = VISA_SECRET, timestamp: int | None = None, **headers: str):
    body = encode(payload)
    signature = signed_visa_headers(body, secret=secret, timestamp=timestamp)
    return door.post("/webhooks/visa/", data=body, headers={**signature, **headers})


def post_stripe(
    payload: Any,
    *,
    connect: bool = False,
    secret: str | None = None,
    timestamp: int | None = None,
):
    body = encode(payload)
    secret = secret or (STRIPE_CONNECT_SECRET if connect else STRIPE_SECRET)
    url = "/webhooks/stripe/connect/" if connect else "/webhooks/stripe/"
    return door.post(url, data=body, headers={"Stripe-Signature": stripe_signature(body, secret, timestamp)})
