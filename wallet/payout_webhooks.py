"""Stripe events that move payouts and payout accounts, registered with the webhook inbox.

Each handler takes the stored ``WebhookEvent`` (``payload`` is Stripe's event JSON,
``account`` the connected account for Connect events) and is idempotent: the services it
calls settle a payout once and post each ledger key once. Events about objects that are
not consumer payouts (a merchant's own payouts on its connected account, a charity
disbursement's transfer) are marked ignored.

- ``account.updated`` (``stripe_connect``, and ``stripe``): the payout capability.
- ``payout.paid`` / ``payout.failed`` / ``payout.canceled`` (``stripe_connect``): a payout
  made on a consumer's connected account.
- ``transfer.reversed`` (``stripe``, the platform's own object): the transfer to the
  consumer's account was taken back.
"""

from typing import Any

from cashback import inbox
from cashback.inbox import Ignored
from wallet.models import Payout
from wallet.payouts import (
    payout_account_state_apply,
    payout_mark_failed,
    payout_mark_paid,
    stripe_timestamp,
)

ACCOUNT_SOURCES = ("stripe_connect", "stripe")
PAYOUT_FAILURE_TYPES = ("payout.failed", "payout.canceled")
_CANCELED = "Stripe canceled the payout."
_FAILED = "The bank refused the payout."


def _object(event: Any) -> dict[str, Any]:
    return ((event.payload or {}).get("data") or {}).get("object") or {}


def _event_id(event: Any) -> str:
    return str((event.payload or {}).get("id") or getattr(event, "event_id", ""))


def _ignored(reason: str) -> Exception:
    return Ignored(reason)


def _payout_for(obj: dict[str, Any], *, id_field: str, account: str = "") -> Payout:
    """The consumer payout a Stripe payout or transfer object belongs to (by our metadata, then by id)."""
    metadata = obj.get("metadata") or {}
    payout = None
    payout_ref = str(metadata.get("payout") or "")
    if payout_ref.isdigit():
        payout = Payout.objects.filter(pk=int(payout_ref)).first()
    if payout is None and obj.get("id"):
        payout = Payout.objects.filter(**{id_field: obj["id"]}).first()
    if payout is None:
        raise _ignored(f"{obj.get('object', 'object')} {obj.get('id')} is not a consumer payout")
    known_id = getattr(payout, id_field)
    if known_id and obj.get("id") and known_id != obj["id"]:
        raise _ignored(f"{obj.get('id')} names payout {payout.pk}, which Stripe knows as {known_id}")
    if account and payout.stripe_account_id != account:
        raise _ignored(f"payout {payout.pk} is not on connected account {account}")
    return payout


def account_updated(event: Any) -> None:
    obj = _object(event)
    applied = payout_account_state_apply(
        stripe_account_id=str(obj.get("id") or event.account or ""),
        payouts_enabled=bool(obj.get("payouts_enabled")),
        details_submitted=bool(obj.get("details_submitted")),
        state_at=stripe_timestamp((event.payload or {}).get("created")),
    )
    if applied is None:
        raise _ignored("not a consumer payout account")


def payout_paid(event: Any) -> None:
    obj = _object(event)
    payout = _payout_for(obj, id_field="stripe_payout_id", account=event.account)
    payout_mark_paid(payout_id=payout.pk, stripe_payout_id=str(obj.get("id") or ""), stripe_event_id=_event_id(event))


def payout_failed(event: Any) -> None:
    obj = _object(event)
    payout = _payout_for(obj, id_field="stripe_payout_id", account=event.account)
    event_type = (event.payload or {}).get("type", "")
    canceled = event_type == "payout.canceled"
    payout_mark_failed(
        payout_id=payout.pk,
        code=str(obj.get("failure_code") or ("canceled" if canceled else "failed")),
        message=str(
            obj.get("failure_message")
            or ("Stripe canceled the payout." if canceled else "The bank refused the payout.")
        ),
        reverse_transfer=True,
        stripe_event_id=_event_id(event),
    )


def transfer_reversed(event: Any) -> None:
    obj = _object(event)
    payout = _payout_for(obj, id_field="stripe_transfer_id")
    payout_mark_failed(
        payout_id=payout.pk,
        code="transfer_reversed",
        message="The transfer to your payout account was reversed.",
        reverse_transfer=False,
        stripe_event_id=_event_id(event),
    )


def register_handlers() -> None:
    """Called from WalletConfig.ready()."""
    for source in ACCOUNT_SOURCES:
        inbox.register(source=source, event_type="account.updated", handler=account_updated)
    inbox.register(source="stripe_connect", event_type="payout.paid", handler=payout_paid)
    for event_type in PAYOUT_FAILURE_TYPES:
        inbox.register(source="stripe_connect", event_type=event_type, handler=payout_failed)
    inbox.register(source="stripe", event_type="transfer.reversed", handler=transfer_reversed)
