"""Reads of the webhook inbox for the staff page."""

from django.db.models import Count, Q, QuerySet

from cashback.models import WebhookEvent, WebhookStatus

# What the staff queue shows unless asked otherwise: the events that need a person's attention.
ATTENTION_STATUSES = (WebhookStatus.UNMATCHED, WebhookStatus.FAILED)


def webhook_events_for_staff(*, status: str = "", source: str = "", search: str = "") -> QuerySet[WebhookEvent]:
    """Events newest first; ``status`` empty means unmatched and failed; ``search`` matches the event
    id, the event type or the Stripe account exactly or by prefix. The payload is deferred (lists
    show none of it)."""
    events = WebhookEvent.objects.defer("payload", "last_error")
    events = events.filter(status=status) if status else events.filter(status__in=ATTENTION_STATUSES)
    if source:
        events = events.filter(source=source)
    search = search.strip()
    if search:
        events = events.filter(
            Q(event_id__startswith=search) | Q(event_type__startswith=search) | Q(account__startswith=search)
        )
    return events.order_by("-received_at", "-pk")


def webhook_status_counts() -> dict[str, int]:
    """How many events are in each status that needs attention (for the staff overview)."""
    rows = (
        WebhookEvent.objects.filter(status__in=ATTENTION_STATUSES)
        .values("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts: dict[str, int] = {status: 0 for status in ATTENTION_STATUSES}
    counts.update({row["status"]: row["count"] for row in rows})
    return counts
