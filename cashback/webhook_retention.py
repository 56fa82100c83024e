"""Webhook payload retention: raw bodies are kept ``WEBHOOK_PAYLOAD_RETENTION_DAYS``, then reduced.

A stored event's ``payload`` is the body as the sender signed it: names, postcodes, e-mail addresses,
whatever the sender put in. Once an event is settled and older than the retention period, the daily
beat task ``cashback.tasks.webhook_payloads_reduce`` cuts the payload down to what processing and
audit need (``reduced_payload``), keeps only the exception's name of ``last_error`` (a traceback may
quote the payload), and stamps ``payload_reduced_at``. The row's envelope — source, event id, type,
account, times, status, attempts — is in its own columns and stays.

Settled means no worker will process it again: ``processed`` and ``ignored``; ``unmatched`` received
before the unmatched-retry window (``INBOX_UNMATCHED_RETRY_DAYS``: a newly linked card no longer
brings it back); ``failed`` with no automatic attempt left (``INBOX_MAX_ATTEMPTS``). ``received``
events, and failed or unmatched ones that may still be retried automatically, are never reduced.
A reduced event is never processed again: the inbox refuses it (``cashback.inbox.PayloadReducedError``).
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cashback.models import WebhookEvent, WebhookSource, WebhookStatus

BATCH_SIZE = 500

# What the card network's transaction events carry that processing used (campaigns/handlers.py): the
# transaction, its amount and time, the card's token (never a number), the network's shop ids.
_VISA_DATA_FIELDS = ("id", "amount", "currency", "datetime", "originalTransactionId")
_VISA_DATA_IDS = ("card", "merchant", "location")  # of each, only "id" (the card: "token")

# Scalars of a Stripe object that the handlers read (campaigns/stripe_source.py, wallet/payout_webhooks.py,
# merchants' account updates); nested objects (invoice lines, billing details) are dropped.
_STRIPE_OBJECT_FIELDS = (
    "id",
    "object",
    "amount",
    "amount_captured",
    "amount_paid",
    "amount_refunded",
    "currency",
    "customer",
    "invoice",
    "charge",
    "refund",
    "status",
    "type",
    "created",
    "captured",
    "paid",
    "failure_code",
    "charges_enabled",
    "payouts_enabled",
    "details_submitted",
)
_STRIPE_METADATA_FIELDS = ("payout",)  # the platform's own payout id, which wallet matches on


def _pick(source: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(source, dict):
        return {}
    return {name: source[name] for name in fields if name in source and not isinstance(source[name], dict | list)}


def reduced_payload(*, source: str, payload: Any) -> dict[str, Any]:
    """The part of ``payload`` that is kept after the retention period, by source."""
    payload = payload if isinstance(payload, dict) else {}
    kept = _pick(payload, ("id", "type", "created", "account"))
    data = payload.get("data")
    if source == WebhookSource.VISA and isinstance(data, dict):
        figures = _pick(data, _VISA_DATA_FIELDS)
        for part in _VISA_DATA_IDS:
            key = "token" if part == "card" else "id"
            figures |= {part: picked} if (picked := _pick(data.get(part), (key,))) else {}
        kept["data"] = figures
    elif source in (WebhookSource.STRIPE, WebhookSource.STRIPE_CONNECT) and isinstance(data, dict):
        stripe_object = data.get("object")
        figures = _pick(stripe_object, _STRIPE_OBJECT_FIELDS)
        if isinstance(stripe_object, dict) and (
            metadata := _pick(stripe_object.get("metadata"), _STRIPE_METADATA_FIELDS)
        ):
            figures["metadata"] = metadata
        kept["data"] = {"object": figures}
    return kept


def error_code(last_error: str) -> str:
    """The exception's name from a stored traceback's last line (``"KeyError: 'amount'"`` → ``"KeyError"``)."""
    lines = [line for line in last_error.strip().splitlines() if line.strip()]
    return lines[-1].split(":", 1)[0].strip()[:200] if lines else ""


def _settled(now: datetime) -> Q:
    unmatched_window = now - timedelta(days=settings.INBOX_UNMATCHED_RETRY_DAYS)
    return (
        Q(status__in=(WebhookStatus.PROCESSED, WebhookStatus.IGNORED))
        | Q(status=WebhookStatus.UNMATCHED, received_at__lt=unmatched_window)
        | Q(status=WebhookStatus.FAILED, attempts__gte=settings.INBOX_MAX_ATTEMPTS)
    )


def webhook_payloads_reduce(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Reduce the payloads of settled events received more than ``WEBHOOK_PAYLOAD_RETENTION_DAYS`` ago;
    return how many were reduced.

    Batches of ``batch_size`` in primary-key order, each in its own transaction, the rows locked with
    ``SKIP LOCKED``: an event a worker or a staff retry is processing right now is left for the next run
    (the lock re-checks the status, so one that changed meanwhile is judged on its new status). Safe to
    run twice and concurrently: a reduced event is not picked again.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_PAYLOAD_RETENTION_DAYS)
    due = WebhookEvent.objects.filter(_settled(now), received_at__lt=cutoff, payload_reduced_at__isnull=True)
    reduced = 0
    after = 0
    while True:
        with transaction.atomic():
            batch = list(
                due.filter(pk__gt=after)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .only("pk", "source", "payload", "last_error")[:batch_size]
            )
            if not batch:
                return reduced
            for event in batch:
                event.payload = reduced_payload(source=event.source, payload=event.payload)
                event.last_error = error_code(event.last_error)
                event.payload_reduced_at = now
                event.updated_at = now
            WebhookEvent.objects.bulk_update(batch, ["payload", "last_error", "payload_reduced_at", "updated_at"])
        reduced += len(batch)
        after = batch[-1].pk
