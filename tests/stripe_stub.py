"""A local stand-in for api.stripe.com: the real SDK talks HTTP to it, tests read what it received.

Usage (fixture ``stripe_stub`` below, or ``StripeStub()`` as a context manager)::

    def test_x(stripe_stub):          # settings now point the real gateway at the stub
        ...
        request = stripe_stub.requests_to("POST", "/v1/transfers")[0]
        assert request.form["amount"] == "1500"
        assert request.headers["Idempotency-Key"] == "payout:1:transfer"

It answers with the shapes of real Stripe objects (accounts, account links, transfers,
payouts) and keeps Stripe's idempotency: a repeated ``Idempotency-Key`` gets the first
response again (with ``Idempotent-Replayed: true``), the same key with other parameters a
400 ``idempotency_error``. ``fail_next(method, path, status)`` answers the next matching
request with a Stripe error body.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass
class StubRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    replayed: bool = False


@dataclass
class _Failure:
    method: str
    path: str
    status: int
    error_type: str
    message: str
    after_processing: bool = False


@dataclass
class StripeStub:
    requests: list[StubRequest] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)  # per price id, product expanded
    _idempotent: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _failures: list[_Failure] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lifecycle --
    def __enter__(self) -> "StripeStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub._handle(self)

            def do_POST(self) -> None:
                stub._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- what tests use --
    def requests_to(self, method: str, path: str) -> list[StubRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        error_type: str = "api_error",
        message: str = "Injected failure.",
        after_processing: bool = False,
    ) -> None:
        """Answer the next matching request with an error.

        ``after_processing=True``: the request is carried out first (a later replay of its
        ``Idempotency-Key`` gets the object) and only the answer is an error — a lost response.
        """
        self._failures.append(_Failure(method, path, status, error_type, message, after_processing))

    def account_set(self, account_id: str, **fields: Any) -> None:
        self.accounts.setdefault(account_id, {"id": account_id, "object": "account"}).update(fields)

    @staticmethod
    def _invoice(n: int, now: int, form: dict[str, str], metadata: dict[str, str], *, status: str) -> dict[str, Any]:
        """A Stripe invoice object as ``POST /v1/invoices`` returns it (the fields the platform reads and more)."""
        invoice_id = f"in_stub{n:010d}"
        return {
            "id": invoice_id,
            "object": "invoice",
            "amount_due": 0,
            "amount_paid": 0,
            "amount_remaining": 0,
            "auto_advance": form.get("auto_advance") == "true",
            "collection_method": form.get("collection_method"),
            "created": now,
            "currency": form.get("currency"),
            "customer": form.get("customer"),
            "days_until_due": int(form["days_until_due"]) if form.get("days_until_due") else None,
            "due_date": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "lines": {"object": "list", "data": [], "has_more": False, "url": f"/v1/invoices/{invoice_id}/lines"},
            "livemode": False,
            "metadata": metadata,
            "number": None,
            "status": status,
            "status_transitions": {"finalized_at": None, "paid_at": None, "voided_at": None},
            "subtotal": 0,
            "total": 0,
        }

    # -- the server side --
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        split = urlsplit(handler.path)
        form = dict(parse_qsl(body or split.query, keep_blank_values=True))
        request = StubRequest(method=handler.command, path=split.path, headers=dict(handler.headers.items()), form=form)
        with self._lock:
            status, payload, replayed = self._respond(request)
            request.replayed = replayed
            self.requests.append(request)
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", f"req_stub_{next(self._ids)}")
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        handler.wfile.write(data)

    def _respond(self, request: StubRequest) -> tuple[int, dict[str, Any], bool]:
        failure = next((f for f in self._failures if f.method == request.method and f.path == request.path), None)
        if failure is not None:
            self._failures.remove(failure)
            if failure.after_processing:
                self._respond(request)
            error = {"type": failure.error_type, "message": failure.message}
            return failure.status, {"error": error}, False
        key = request.headers.get("Idempotency-Key")
        fingerprint = json.dumps([request.method, request.path, request.headers.get("Stripe-Account"), request.form])
        if request.method == "POST" and key and key in self._idempotent:
            first_fingerprint, status, payload = self._idempotent[key]
            if first_fingerprint != fingerprint:
                error = {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                }
                return 400, {"error": error}, False
            return status, payload, True
        status, payload = self._route(request)
        if request.method == "POST" and key:
            self._idempotent[key] = (fingerprint, status, payload)
        return status, payload, False

    def _route(self, request: StubRequest) -> tuple[int, dict[str, Any]]:
        now = int(time.time())
        n = next(self._ids)
        form = request.form
        metadata = {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")}
        if request.method == "POST" and request.path == "/v1/accounts":
            account = {
                "id": f"acct_stub{n:010d}",
                "object": "account",
                "type": form.get("type"),
                "country": form.get("country"),
                "email": form.get("email"),
                "business_type": form.get("business_type"),
                "capabilities": {"transfers": "inactive"},
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "created": now,
                "default_currency": "nok",
                "metadata": metadata,
                "requirements": {"currently_due": ["external_account"], "disabled_reason": "requirements.past_due"},
            }
            self.accounts[account["id"]] = account
            return 200, account
        if request.method == "GET" and request.path.startswith("/v1/accounts/"):
            account = self.accounts.get(request.path.rsplit("/", 1)[1])
            if account is None:
                error = {"type": "invalid_request_error", "code": "resource_missing", "message": "No such account"}
                return 404, {"error": error}
            return 200, account
        if request.method == "POST" and request.path == "/v1/account_links":
            return 200, {
                "object": "account_link",
                "created": now,
                "expires_at": now + 300,
                "url": f"https://connect.stripe.com/setup/e/{form.get('account')}/stub{n}",
            }
        if request.method == "POST" and request.path == "/v1/transfers":
            transfer_id = f"tr_stub{n:010d}"
            return 200, {
                "id": transfer_id,
                "object": "transfer",
                "amount": int(form["amount"]),
                "amount_reversed": 0,
                "balance_transaction": f"txn_stub{n:010d}",
                "created": now,
                "currency": form["currency"],
                "description": None,
                "destination": form["destination"],
                "destination_payment": f"py_stub{n:010d}",
                "livemode": False,
                "metadata": metadata,
                "reversals": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "total_count": 0,
                    "url": f"/v1/transfers/{transfer_id}/reversals",
                },
                "reversed": False,
                "source_transaction": None,
                "source_type": "card",
                "transfer_group": None,
            }
        if (
            request.method == "POST"
            and request.path.startswith("/v1/transfers/")
            and request.path.endswith("/reversals")
        ):
            return 200, {
                "id": f"trr_stub{n:010d}",
                "object": "transfer_reversal",
                "amount": int(form["amount"]),
                "balance_transaction": f"txn_stub{n:010d}",
                "created": now,
                "currency": "nok",
                "destination_payment_refund": f"pyr_stub{n:010d}",
                "metadata": metadata,
                "source_refund": None,
                "transfer": request.path.split("/")[3],
            }
        if request.method == "POST" and request.path == "/v1/payouts":
            return 200, {
                "id": f"po_stub{n:010d}",
                "object": "payout",
                "amount": int(form["amount"]),
                "arrival_date": now + 86400,
                "automatic": False,
                "balance_transaction": f"txn_stub{n:010d}",
                "created": now,
                "currency": form["currency"],
                "description": None,
                "destination": f"ba_stub{n:010d}",
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": metadata,
                "method": "standard",
                "original_payout": None,
                "reversed_by": None,
                "source_type": "card",
                "statement_descriptor": None,
                "status": "pending",
                "type": "bank_account",
            }
        if request.method == "POST" and request.path == "/v1/customers":
            return 200, {
                "id": f"cus_stub{n:010d}",
                "object": "customer",
                "address": None,
                "balance": 0,
                "created": now,
                "currency": None,
                "default_source": None,
                "delinquent": False,
                "description": None,
                "email": form.get("email"),
                "invoice_prefix": f"STUB{n:04d}",
                "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
                "livemode": False,
                "metadata": metadata,
                "name": form.get("name"),
                "phone": None,
                "preferred_locales": [],
                "shipping": None,
                "tax_exempt": "none",
            }
        if request.method == "POST" and request.path == "/v1/invoices":
            invoice = self._invoice(n, now, form, metadata, status="draft")
            self.invoices[invoice["id"]] = invoice
            return 200, invoice
        if request.method == "POST" and request.path == "/v1/invoiceitems":
            invoice = self.invoices.get(form.get("invoice", ""))
            item = {
                "id": f"ii_stub{n:010d}",
                "object": "invoiceitem",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "customer": form["customer"],
                "date": now,
                "description": form.get("description"),
                "discountable": True,
                "invoice": form.get("invoice"),
                "livemode": False,
                "metadata": metadata,
                "period": {"end": now, "start": now},
                "proration": False,
                "quantity": 1,
            }
            if invoice is not None:
                invoice["amount_due"] += item["amount"]
                invoice["total"] += item["amount"]
                invoice["subtotal"] += item["amount"]
            return 200, item
        if request.method == "POST" and request.path.startswith("/v1/invoices/") and request.path.endswith("/finalize"):
            invoice = self.invoices.get(request.path.split("/")[3])
            if invoice is None:
                error = {"type": "invalid_request_error", "code": "resource_missing", "message": "No such invoice"}
                return 404, {"error": error}
            invoice.update(
                status="open",
                number=f"STUB-{n:04d}",
                hosted_invoice_url=f"https://invoice.stripe.com/i/acct_stub/test_{invoice['id']}",
                invoice_pdf=f"https://pay.stripe.com/invoice/acct_stub/test_{invoice['id']}/pdf",
                due_date=now + 86400 * int(invoice.get("days_until_due") or 0),
                status_transitions={**invoice["status_transitions"], "finalized_at": now},
            )
            return 200, dict(invoice)
        if request.method == "GET" and request.path.startswith("/v1/prices/"):
            price = self.prices.get(request.path.split("/")[3])
            if price is None:
                error = {"type": "invalid_request_error", "code": "resource_missing", "message": "No such price"}
                return 404, {"error": error}
            return 200, dict(price)
        message = f"Unrecognized request URL ({request.method}: {request.path})"
        error = {"type": "invalid_request_error", "message": message}
        return 404, {"error": error}


@pytest.fixture
def stripe_stub(settings):
    """A running stub, and settings that make ``get_stripe_gateway()`` the real SDK pointed at it."""
    with StripeStub() as stub:
        settings.STRIPE_PROVIDER = "stripe"
        settings.STRIPE_SECRET_KEY = "sk_test_stub"
        settings.STRIPE_API_BASE = stub.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        yield stub


@pytest.fixture
def fake_stripe():
    """The fake gateway with a clean record (it is the default provider in tests)."""
    from cashback.providers.stripe_gateway import FakeStripeGateway

    FakeStripeGateway.reset()
    yield FakeStripeGateway
    FakeStripeGateway.reset()
