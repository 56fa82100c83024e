"""The wallet's figures for /metrics (cashback/metrics.py), read at scrape: ledger postings by journal
kind and payout steps by status, counted from the rows as they are appended (BRIN indexes on their
creation time, migration 0006), and the payouts still open by status."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from cashback.metrics_scrape import Labels, RowCounter
from wallet.models import JournalTransaction, Payout, PayoutStatus, PayoutStatusChange

OPEN_PAYOUT_STATUSES = (PayoutStatus.REQUESTED, PayoutStatus.HELD, PayoutStatus.PROCESSING)


def _postings(start: datetime, end: datetime) -> Iterable[tuple[Labels, int]]:
    rows = (
        JournalTransaction.objects.filter(created_at__gt=start, created_at__lte=end)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    for kind, n in rows:
        yield (kind,), n


def _payout_steps(start: datetime, end: datetime) -> Iterable[tuple[Labels, int]]:
    rows = (
        PayoutStatusChange.objects.filter(created_at__gt=start, created_at__lte=end)
        .order_by()
        .values_list("to_status")
        .annotate(n=Count("id"))
    )
    for status, n in rows:
        yield (status,), n


ledger_postings = RowCounter(
    name="cashback_ledger_postings",
    documentation="Ledger journal transactions posted, by kind (reward_earn, payout, spend, ...).",
    labelnames=("kind",),
    count_rows=_postings,
)
payout_steps = RowCounter(
    name="cashback_payouts_by_status",
    documentation="Payouts that entered each status (requested, held, processing, paid, failed).",
    labelnames=("status",),
    count_rows=_payout_steps,
)


def collect() -> Iterable[Metric]:
    yield from ledger_postings.collect()
    yield from payout_steps.collect()
    open_payouts = GaugeMetricFamily(
        "cashback_payouts_open",
        "Payouts not yet paid or failed, by status (held ones wait for staff review).",
        labels=["status"],
    )
    counts = dict(
        Payout.objects.filter(status__in=OPEN_PAYOUT_STATUSES)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    for status in OPEN_PAYOUT_STATUSES:
        open_payouts.add_metric([status.value], counts.get(status.value, 0))
    yield open_payouts
