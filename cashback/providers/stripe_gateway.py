"""Stripe gateway: the few Stripe Connect calls the platform makes, behind one small interface.

``get_stripe_gateway()`` picks the client by ``settings.STRIPE_PROVIDER``:

- ``stripe`` (the default when ``STRIPE_SECRET_KEY`` is set): :class:`StripeGateway`, the
  official SDK's ``StripeClient``. ``STRIPE_API_BASE`` points it elsewhere (stripe-mock, or
  the tests' local stub server); every mutating call sends our ``Idempotency-Key``, so a
  retry after a crash gets Stripe's first answer instead of a second transfer or payout.
- ``fake`` (the default without a key): :class:`FakeStripeGateway`. Its ids are derived
  from the idempotency key (the same key gives the same object in every process), every
  call is recorded in ``FakeStripeGateway.calls``, and a test can make the next call of a
  method fail, before or after the "remote" side acted (``FakeStripeGateway.fail_next``).

Methods: ``connected_account_create`` (an Express account), ``account_link_create`` (its
onboarding URL; single-use, so callers give a new key per request), ``account_retrieve``,
``price_retrieve`` (a connected account's price with its product expanded: the cashback price's
``cashback_rate``), ``transfer_create`` (platform → connected account),
``payout_create`` (connected account → its bank, with the ``Stripe-Account`` header) and
``transfer_reversal_create`` (pull a transfer back); and for the merchants' monthly invoices
(docs/billing.md), on the platform's own account: ``customer_create``, ``invoice_create`` (a
draft that takes no pending items), ``invoice_item_create`` (a line on that draft) and
``invoice_finalize``.

Amounts are integer minor units; Stripe uses the same unit for NOK, SEK, DKK and EUR.
Every method is keyword-only; failures raise :class:`StripeGatewayError` whose
``retryable`` says whether the same call with the same key may succeed later.
"""

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import stripe
from django.conf import settings
from rest_framework import status

from cashback.errors import DomainError

logger = logging.getLogger(__name__)


class StripeGatewayError(DomainError):
    """Stripe refused a call or could not be reached.

    ``retryable`` is true for network errors, rate limits, Stripe's own 5xx and idempotency
    races (the same call with the same key may succeed later); false for a refusal of the
    request itself (invalid parameters, an account that cannot receive payouts, ...).
    """

    code = "payment_provider_error"
    http_status = status.HTTP_502_BAD_GATEWAY
    default_message = "The payment provider could not carry out the request."

    def __init__(self, message: str | None = None, *, retryable: bool, stripe_code: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.stripe_code = stripe_code


class StripeGatewayClient(Protocol):
    def connected_account_create(
        self, *, email: str, country: str, business_type: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> str: ...

    def account_link_create(
        self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str: ...

    def price_retrieve(self, *, account_id: str, price_id: str) -> dict[str, Any]: ...

    def account_retrieve(self, *, account_id: str) -> dict[str, Any]: ...

    def transfer_create(
        self, *, amount_minor: int, currency: str, destination: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]: ...

    def payout_create(
        self, *, account_id: str, amount_minor: int, currency: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]: ...

    def transfer_reversal_create(
        self, *, transfer_id: str, amount_minor: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]: ...

    def customer_create(
        self, *, email: str, name: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]: ...

    def invoice_create(
        self, *, customer_id: str, currency: str, days_until_due: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]: ...

    def invoice_item_create(
        self,
        *,
        customer_id: str,
        invoice_id: str,
        amount_minor: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> dict[str, Any]: ...

    def invoice_finalize(self, *, invoice_id: str, idempotency_key: str) -> dict[str, Any]: ...


def _metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(key): str(value) for key, value in (metadata or {}).items()}


# --- The real client ---------------------------------------------------------------


class StripeGateway:
    """The official SDK (``stripe.StripeClient``), one client per gateway."""

    def __init__(self, *, api_key: str, api_base: str = "", max_network_retries: int = 2) -> None:
        self._client = stripe.StripeClient(
            api_key,
            # A literal here, so that the checker reads it as Stripe's BaseAddresses.
            base_addresses={"api": api_base, "connect": api_base, "files": api_base} if api_base else None,
            max_network_retries=max_network_retries,
        )

    def connected_account_create(
        self, *, email: str, country: str, business_type: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> str:
        account = self._call(
            self._client.v1.accounts.create,
            {
                "type": "express",
                "country": country,
                "email": email,
                "business_type": business_type,
                "capabilities": {"transfers": {"requested": True}},
                "metadata": _metadata(metadata),
            },
            {"idempotency_key": idempotency_key},
        )
        return account["id"]

    def account_link_create(self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str) -> str:
        link = self._call(
            self._client.v1.account_links.create,
            {"account": account_id, "refresh_url": refresh_url, "return_url": return_url, "type": "account_onboarding"},
            {"idempotency_key": idempotency_key},
        )
        return link["url"]

    def price_retrieve(self, *, account_id: str, price_id: str) -> dict[str, Any]:
        # A price on a connected account (Stripe-Account header), with its product's metadata.
        return self._call(
            self._client.v1.prices.retrieve,
            price_id,
            {"expand": ["product"]},
            {"stripe_account": account_id},
        )

    def account_retrieve(self, *, account_id: str) -> dict[str, Any]:
        return self._call(self._client.v1.accounts.retrieve, account_id)

    def transfer_create(
        self, *, amount_minor: int, currency: str, destination: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        return self._call(
            self._client.v1.transfers.create,
            {
                "amount": amount_minor,
                "currency": currency.lower(),
                "destination": destination,
                "metadata": _metadata(metadata),
            },
            {"idempotency_key": idempotency_key},
        )

    def payout_create(
        self, *, account_id: str, amount_minor: int, currency: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        # A payout on the connected account: the Stripe-Account header makes the call on its behalf.
        return self._call(
            self._client.v1.payouts.create,
            {"amount": amount_minor, "currency": currency.lower(), "metadata": _metadata(metadata)},
            {"idempotency_key": idempotency_key, "stripe_account": account_id},
        )

    def transfer_reversal_create(
        self, *, transfer_id: str, amount_minor: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        # Pulls a transfer's money back from the connected account to the platform's balance.
        return self._call(
            self._client.v1.transfers.reversals.create,
            transfer_id,
            {"amount": amount_minor, "metadata": _metadata(metadata)},
            {"idempotency_key": idempotency_key},
        )

    def customer_create(
        self, *, email: str, name: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        return self._call(
            self._client.v1.customers.create,
            {"email": email, "name": name, "metadata": _metadata(metadata)},
            {"idempotency_key": idempotency_key},
        )

    def invoice_create(
        self, *, customer_id: str, currency: str, days_until_due: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        # A draft that sends itself by e-mail once finalised; "exclude" keeps stray pending items of
        # the customer off it (only the items created for this invoice, by its id, are on it).
        return self._call(
            self._client.v1.invoices.create,
            {
                "customer": customer_id,
                "currency": currency.lower(),
                "collection_method": "send_invoice",
                "days_until_due": days_until_due,
                "auto_advance": False,
                "pending_invoice_items_behavior": "exclude",
                "metadata": _metadata(metadata),
            },
            {"idempotency_key": idempotency_key},
        )

    def invoice_item_create(
        self,
        *,
        customer_id: str,
        invoice_id: str,
        amount_minor: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> dict[str, Any]:
        return self._call(
            self._client.v1.invoice_items.create,
            {
                "customer": customer_id,
                "invoice": invoice_id,
                "amount": amount_minor,
                "currency": currency.lower(),
                "description": description,
                "metadata": _metadata(metadata),
            },
            {"idempotency_key": idempotency_key},
        )

    def invoice_finalize(self, *, invoice_id: str, idempotency_key: str) -> dict[str, Any]:
        return self._call(
            self._client.v1.invoices.finalize_invoice,
            invoice_id,
            {"auto_advance": True},
            {"idempotency_key": idempotency_key},
        )

    @staticmethod
    def _call(method: Any, *args: Any) -> dict[str, Any]:
        try:
            return method(*args).to_dict()
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            logger.warning("Stripe call failed, retryable: %s", exc)
            raise StripeGatewayError(str(exc.user_message or exc), retryable=True, stripe_code=exc.code or "") from exc
        except stripe.StripeError as exc:
            # 409: a request with the same idempotency key is still in flight; 400 idempotency_error:
            # the key was used with other parameters (a bug, not something a retry fixes).
            retryable = exc.http_status is not None and (exc.http_status >= 500 or exc.http_status == 409)
            logger.warning("Stripe refused a call (retryable=%s): %s", retryable, exc)
            raise StripeGatewayError(
                str(exc.user_message or exc), retryable=retryable, stripe_code=exc.code or ""
            ) from exc


# --- The fake ----------------------------------------------------------------------


@dataclass(frozen=True)
class FakeStripeCall:
    method: str
    params: dict[str, Any]
    idempotency_key: str | None = None


@dataclass
class _Failure:
    error: StripeGatewayError
    after_call: bool = False


@dataclass
class _FakeState:
    calls: list[FakeStripeCall] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # idempotency key -> hash of its first request
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)  # price id -> price with expanded product


class FakeStripeGateway:
    """Stripe without the network, deterministic across processes.

    Objects are not stored: an id is a hash of the idempotency key, so a replay anywhere
    returns the same object, as Stripe's idempotency does. Per process (tests), the fake
    also records calls, refuses a key reused with different parameters, lets a test set a
    connected account's state, and injects failures. A connected account is ready for
    payouts unless a test says otherwise (the onboarding link goes straight to the return
    page), so development needs no Stripe account.
    """

    _state: ClassVar[_FakeState] = _FakeState()

    # -- test controls --
    @classmethod
    def reset(cls) -> None:
        cls._state = _FakeState()

    @classmethod
    def calls(cls, method: str | None = None) -> list[FakeStripeCall]:
        return [call for call in cls._state.calls if method is None or call.method == method]

    @classmethod
    def fail_next(
        cls,
        method: str,
        *,
        retryable: bool = True,
        after_call: bool = False,
        message: str = "Injected Stripe failure.",
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        ``after_call=True`` simulates a lost response: Stripe acted (the call is recorded and
        a replay of its key returns the object) but the caller sees an error.
        """
        queue = cls._state.failures.setdefault(method, [])
        for _ in range(times):
            queue.append(_Failure(StripeGatewayError(message, retryable=retryable), after_call=after_call))

    @classmethod
    def account_set(cls, account_id: str, **fields: Any) -> None:
        """Set fields (``payouts_enabled``, ``details_submitted``, ...) of a connected account."""
        cls._state.accounts.setdefault(account_id, {}).update(fields)

    @classmethod
    def price_set(cls, price: dict[str, Any]) -> None:
        """Make a price (Stripe's shape, ``product`` expanded) retrievable on any connected account."""
        cls._state.prices[price["id"]] = price

    # -- the gateway --
    def connected_account_create(
        self, *, email: str, country: str, business_type: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> str:
        params: dict[str, Any] = {"type": "express", "country": country, "email": email, "business_type": business_type}
        params["metadata"] = _metadata(metadata)
        with self._calling("connected_account_create", params, idempotency_key):
            return "acct_fake_" + self._digest(idempotency_key)

    def account_link_create(self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str) -> str:
        params = {"account": account_id, "refresh_url": refresh_url, "return_url": return_url}
        with self._calling("account_link_create", params, idempotency_key):
            return return_url

    def price_retrieve(self, *, account_id: str, price_id: str) -> dict[str, Any]:
        with self._calling("price_retrieve", {"account": account_id, "price": price_id}, None):
            price = self._state.prices.get(price_id)
            if price is None:
                raise StripeGatewayError(
                    f"No such price: '{price_id}'", retryable=False, stripe_code="resource_missing"
                )
            return price

    def account_retrieve(self, *, account_id: str) -> dict[str, Any]:
        with self._calling("account_retrieve", {"account": account_id}, None):
            account = {
                "id": account_id,
                "object": "account",
                "type": "express",
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
            }
            account.update(self._state.accounts.get(account_id, {}))
            return account

    def transfer_create(
        self, *, amount_minor: int, currency: str, destination: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        params = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "destination": destination,
            "metadata": _metadata(metadata),
        }
        with self._calling("transfer_create", params, idempotency_key):
            return {"id": "tr_fake_" + self._digest(idempotency_key), "object": "transfer", "reversed": False, **params}

    def payout_create(
        self, *, account_id: str, amount_minor: int, currency: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        params = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "metadata": _metadata(metadata),
            "stripe_account": account_id,
        }
        with self._calling("payout_create", params, idempotency_key):
            return {"id": "po_fake_" + self._digest(idempotency_key), "object": "payout", "status": "pending", **params}

    def transfer_reversal_create(
        self, *, transfer_id: str, amount_minor: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        params = {"transfer": transfer_id, "amount": amount_minor, "metadata": _metadata(metadata)}
        with self._calling("transfer_reversal_create", params, idempotency_key):
            return {"id": "trr_fake_" + self._digest(idempotency_key), "object": "transfer_reversal", **params}

    def customer_create(
        self, *, email: str, name: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        params = {"email": email, "name": name, "metadata": _metadata(metadata)}
        with self._calling("customer_create", params, idempotency_key):
            return {"id": "cus_fake_" + self._digest(idempotency_key), "object": "customer", **params}

    def invoice_create(
        self, *, customer_id: str, currency: str, days_until_due: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        params = {
            "customer": customer_id,
            "currency": currency.lower(),
            "collection_method": "send_invoice",
            "days_until_due": days_until_due,
            "metadata": _metadata(metadata),
        }
        with self._calling("invoice_create", params, idempotency_key):
            return {"id": "in_fake_" + self._digest(idempotency_key), "object": "invoice", "status": "draft", **params}

    def invoice_item_create(
        self,
        *,
        customer_id: str,
        invoice_id: str,
        amount_minor: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> dict[str, Any]:
        params = {
            "customer": customer_id,
            "invoice": invoice_id,
            "amount": amount_minor,
            "currency": currency.lower(),
            "description": description,
            "metadata": _metadata(metadata),
        }
        with self._calling("invoice_item_create", params, idempotency_key):
            return {"id": "ii_fake_" + self._digest(idempotency_key), "object": "invoiceitem", **params}

    def invoice_finalize(self, *, invoice_id: str, idempotency_key: str) -> dict[str, Any]:
        with self._calling("invoice_finalize", {"invoice": invoice_id}, idempotency_key):
            return {
                "id": invoice_id,
                "object": "invoice",
                "status": "open",
                "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
            }

    # -- internals --
    @staticmethod
    def _digest(idempotency_key: str) -> str:
        return hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]

    def _calling(self, method: str, params: dict[str, Any], idempotency_key: str | None) -> "_FakeCall":
        return _FakeCall(self._state, method, params, idempotency_key)


class _FakeCall:
    """Context of one fake call: injected failures before and after, the key check, the record."""

    def __init__(self, state: _FakeState, method: str, params: dict[str, Any], key: str | None) -> None:
        self.state, self.method, self.params, self.key = state, method, params, key

    def __enter__(self) -> None:
        queue = self.state.failures.get(self.method) or []
        self.failure = queue.pop(0) if queue else None
        if self.failure and not self.failure.after_call:
            raise self.failure.error
        if self.key is not None:
            digest = hashlib.sha256(json.dumps([self.method, self.params], sort_keys=True).encode()).hexdigest()
            if self.state.keys.setdefault(self.key, digest) != digest:
                raise StripeGatewayError(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                    retryable=False,
                    stripe_code="idempotency_error",
                )
        self.state.calls.append(FakeStripeCall(method=self.method, params=self.params, idempotency_key=self.key))

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None and self.failure and self.failure.after_call:
            raise self.failure.error


# --- Choosing ----------------------------------------------------------------------


def get_stripe_gateway() -> StripeGatewayClient:
    provider = settings.STRIPE_PROVIDER
    if provider == "fake":
        return FakeStripeGateway()
    if provider == "stripe":
        if not settings.STRIPE_SECRET_KEY:
            raise NotImplementedError("STRIPE_PROVIDER=stripe needs STRIPE_SECRET_KEY.")
        return StripeGateway(
            api_key=settings.STRIPE_SECRET_KEY,
            api_base=settings.STRIPE_API_BASE,
            max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        )
    raise NotImplementedError(f"Stripe provider {provider!r} is not available.")
