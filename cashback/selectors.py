"""Reads of the webhook inbox and of the outbox of facts, for the staff pages."""

from django.db.models import Case, Count, Q, QuerySet, When

from cashback.models import DeliveryStatus, FactDelivery, WebhookEvent, WebhookStatus

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


def fact_deliveries_open() -> QuerySet[FactDelivery]:
    """Deliveries of facts that are not done (failed first, then pending), oldest first within each:
    what the staff page /staff/facts/ lists."""
    return (
        FactDelivery.objects.exclude(status=DeliveryStatus.DONE)
        .select_related("fact")
        .order_by(Case(When(status=DeliveryStatus.FAILED, then=0), default=1), "created_at", "pk")
    )


def fact_delivery_counts() -> dict[str, int]:
    """How many deliveries are failed and pending."""
    counts = dict(
        FactDelivery.objects.exclude(status=DeliveryStatus.DONE)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in (DeliveryStatus.FAILED, DeliveryStatus.PENDING)}
