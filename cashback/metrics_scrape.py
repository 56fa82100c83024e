"""Figures read at scrape (cashback/metrics.py): the webhook inbox and the Celery queues, and
``RowCounter``, with which an app counts the rows its workers append (wallet/metrics.py).

Every query is bounded: the inbox's figures read its open backlog through the partial index on open
events; a counter reads only the rows stamped since the previous scrape, through a BRIN index on
the stamp (a few pages, whatever the table's size).
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from cashback.health import redis_client
from cashback.models import OPEN_STATUSES, WebhookEvent, WebhookStatus

Labels = tuple[str, ...]
# (start, end] -> counts by label values
CountRows = Callable[[datetime, datetime], Iterable[tuple[Labels, int]]]


class RowCounter:
    """A Prometheus counter of rows, counted at scrape from their timestamps.

    Each scrape counts the rows stamped in (the previous scrape's end, now - METRICS_COUNT_LAG_SECONDS]
    and adds them to totals kept in the cache (Redis in production), so every web process and machine
    serves the same totals and each row is counted once. The lag lets transactions that stamped a row
    before they committed commit first. A scrape that finds another one counting (a lock in the cache)
    serves the totals as they are. After a gap longer than METRICS_COUNT_MAX_GAP_SECONDS (nobody
    scraped), counting starts again at the end of the gap rather than read the whole gap in one scrape.
    """

    def __init__(self, *, name: str, documentation: str, labelnames: Labels, count_rows: CountRows) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.count_rows = count_rows
        self._state_key = f"metrics:rows:{name}"
        self._lock_key = f"metrics:rows:{name}:lock"

    def advance(self, *, now: datetime) -> dict[Labels, int]:
        end = now - timedelta(seconds=settings.METRICS_COUNT_LAG_SECONDS)
        if not django_cache.add(self._lock_key, 1, timeout=60):
            return self._totals(django_cache.get(self._state_key))
        try:
            state = django_cache.get(self._state_key)
            totals = self._totals(state)
            start = datetime.fromisoformat(state["until"]) if state else None  # exact to the microsecond
            max_gap = timedelta(seconds=settings.METRICS_COUNT_MAX_GAP_SECONDS)
            if start is not None and end - max_gap <= start < end:
                for labels, count in self.count_rows(start, end):
                    totals[labels] = totals.get(labels, 0) + count
            if start is None or start < end:
                stored = {"until": end.isoformat(), "totals": [[list(k), v] for k, v in totals.items()]}
                django_cache.set(self._state_key, stored, timeout=None)
            return totals
        finally:
            django_cache.delete(self._lock_key)

    @staticmethod
    def _totals(state: dict | None) -> dict[Labels, int]:
        return {tuple(labels): count for labels, count in state["totals"]} if state else {}

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=list(self.labelnames))
        for labels, count in sorted(self.advance(now=timezone.now()).items()):
            family.add_metric(list(labels), count)
        yield family


# --- The webhook inbox ----------------------------------------------------------------------------


def _settled_rows(start: datetime, end: datetime) -> Iterable[tuple[Labels, int]]:
    rows = (
        WebhookEvent.objects.filter(processed_at__gt=start, processed_at__lte=end)
        .order_by()
        .values_list("source", "event_type", "status")
        .annotate(n=Count("id"))
    )
    for source, event_type, status, n in rows:
        yield (source, event_type, status), n


inbox_settled = RowCounter(
    name="cashback_inbox_events_settled",
    documentation="Webhook events that reached processed or ignored, by source, type and status "
    "(counted from processed_at at scrape).",
    labelnames=("source", "event_type", "status"),
    count_rows=_settled_rows,
)


def inbox_collect() -> Iterable[Metric]:
    now = timezone.now()
    oldest = WebhookEvent.objects.filter(status=WebhookStatus.RECEIVED).aggregate(oldest=Min("received_at"))["oldest"]
    lag = GaugeMetricFamily(
        "cashback_inbox_lag_seconds",
        "Age of the oldest webhook event still waiting to be processed (status received); 0 when none waits.",
    )
    lag.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
    yield lag

    parked = Q(status=WebhookStatus.FAILED, attempts__gte=settings.INBOX_MAX_ATTEMPTS)
    open_rows = (
        WebhookEvent.objects.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values_list("source", "event_type", "status")
        .annotate(n=Count("id"), parked=Count("id", filter=parked))
    )
    open_events = GaugeMetricFamily(
        "cashback_inbox_open_events",
        "Webhook events not settled, by source, type and status: received (waiting), unmatched (unknown card "
        "or shop), failed (the handler raised; retried with backoff).",
        labels=["source", "event_type", "status"],
    )
    parked_events = GaugeMetricFamily(
        "cashback_inbox_parked_events",
        "Failed webhook events that used all INBOX_MAX_ATTEMPTS and wait for staff, by source and type.",
        labels=["source", "event_type"],
    )
    for source, event_type, status, n, n_parked in open_rows:
        open_events.add_metric([source, event_type, status], n)
        if n_parked:
            parked_events.add_metric([source, event_type], n_parked)
    yield open_events
    yield parked_events
    yield from inbox_settled.collect()


# --- Celery queues ----------------------------------------------------------------------------------


def queues_collect() -> Iterable[Metric]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return  # eager / in-memory broker: no queues to measure
    names = [queue.name for queue in settings.CELERY_TASK_QUEUES]
    with redis_client(url).pipeline(transaction=False) as pipe:
        for name in names:
            pipe.llen(name)
        lengths = pipe.execute()
    depth = GaugeMetricFamily(
        "cashback_celery_queue_length",
        "Messages waiting in each Celery queue on the Redis broker (LLEN at scrape); reserved ones are not counted.",
        labels=["queue"],
    )
    for name, length in zip(names, lengths, strict=True):
        depth.add_metric([name], length)
    yield depth
