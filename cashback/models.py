"""The webhook inbox: every event the card network and Stripe send, stored before it is acknowledged.

A row is written once per ``(source, event_id)`` — the unique constraint is what makes a redelivered
event a no-op — and then moves through ``received -> processed | unmatched | ignored | failed``
(see cashback/inbox.py). The payload is the event exactly as parsed from the verified body; the card
network's body carries only the first six and last four digits of a card, and the Visa door refuses
a body that carries more (cashback/webhooks.py), so no full card number is ever stored here.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookSource(models.TextChoices):
    VISA = "visa", _("Card network (Visa)")
    STRIPE = "stripe", _("Stripe (platform account)")
    STRIPE_CONNECT = "stripe_connect", _("Stripe Connect (connected accounts)")


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    UNMATCHED = "unmatched", _("Unmatched")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


# States a worker or a person may still act on; the staff queue and the retry sweeps read only these,
# through one partial index that the hot path (a new row is "received") keeps small.
OPEN_STATUSES = (WebhookStatus.RECEIVED, WebhookStatus.UNMATCHED, WebhookStatus.FAILED)


class WebhookEvent(models.Model):
    source = models.CharField(max_length=20, choices=WebhookSource.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    # The Stripe Connect account the event happened on ("acct_..."); empty for other sources.
    account = models.CharField(max_length=255, blank=True, default="")
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # Why the handler could not match the event (unknown card, unknown shop), or why it was ignored.
    unmatched_reason = models.CharField(max_length=500, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # When a failed event is due for its next automatic attempt (backoff); null otherwise.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the payload was cut down to what processing and audit need, after WEBHOOK_PAYLOAD_RETENTION_DAYS
    # (cashback/webhook_retention.py); null while the body is kept as the sender signed it.
    payload_reduced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="webhook_event_source_event_id_unique"),
            models.CheckConstraint(condition=Q(source__in=WebhookSource.values), name="webhook_event_source_valid"),
            models.CheckConstraint(condition=Q(status__in=WebhookStatus.values), name="webhook_event_status_valid"),
            models.CheckConstraint(condition=~Q(event_id=""), name="webhook_event_event_id_not_empty"),
        ]
        indexes = [
            # Staff queue (filter by status, newest first), unmatched re-processing within a window and
            # the sweep of events whose enqueue was lost.
            models.Index(
                fields=["status", "received_at"],
                name="webhook_event_open_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # Failed events due for another attempt.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_event_retry_due_idx",
                condition=Q(status=WebhookStatus.FAILED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id} ({self.event_type}, {self.status})"

    @property
    def badge(self) -> str:
        """The colour of this status's badge in the staff pages."""
        badges: dict[str, str] = {
            WebhookStatus.PROCESSED: "success",
            WebhookStatus.UNMATCHED: "warning",
            WebhookStatus.FAILED: "failed",
            WebhookStatus.RECEIVED: "info",
        }
        return badges.get(self.status, "neutral")


# --- The outbox of facts (cashback/events.py) -----------------------------------------------------


class Fact(models.Model):
    """One fact a domain app announced (``cashback.events.announce``), written in the announcer's
    transaction: it exists exactly when the change it tells of was committed. Append-only."""

    kind = models.CharField(max_length=60)
    # Ids and plain values only (the announcer's keyword arguments), never model instances.
    payload = models.JSONField(default=dict)
    # Set for a fact told at most once (``announce(..., once_key=...)``): unique per kind; "" otherwise.
    once_key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "-created_at"], name="fact_kind_recent_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "once_key"], condition=~models.Q(once_key=""), name="fact_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class FactDelivery(models.Model):
    """One subscriber's handling of one fact: run by its own task after the announcer committed,
    retried with backoff while it fails, visible to staff at /staff/facts/."""

    fact = models.ForeignKey(Fact, on_delete=models.CASCADE, related_name="deliveries")
    # The subscriber's dotted path (module.function), so any worker can import it.
    subscriber = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # When a failed delivery is due for its next automatic attempt, or until when a pending one
    # handed to the broker by the sweep is left alone; null otherwise.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["fact", "subscriber"], name="fact_delivery_once_per_subscriber"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="fact_delivery_status_valid"),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.DONE, done_at__isnull=False)
                | (~Q(status=DeliveryStatus.DONE) & Q(done_at__isnull=True)),
                name="fact_delivery_done_at_iff_done",
            ),
        ]
        indexes = [
            # The sweep and the staff page read only deliveries that are not done.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="fact_delivery_open_idx",
                condition=~Q(status=DeliveryStatus.DONE),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} of {self.fact_id} ({self.status})"

    @property
    def badge(self) -> str:
        return {"pending": "warning", "failed": "failed", "done": "success"}.get(self.status, "")
