"""The report files: CSV written row by row (constant memory, for a streamed response or a file the
task writes) and PDF through WeasyPrint in the house style (static/css/report.css)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML

from insights.report_selectors import CampaignReport, Demographics, TransactionFilters, TransactionRow

if TYPE_CHECKING:
    from merchants.models import Merchant


class _Line:
    """A file-like object whose ``write`` hands back the line csv.writer wrote (no buffer grows)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[str]]) -> Iterator[bytes]:
    """The CSV, one encoded line at a time (a UTF-8 byte-order mark first, for spreadsheet programs)."""
    writer = csv.writer(_Line())
    yield "\ufeff".encode() + writer.writerow(list(header)).encode()
    for row in rows:
        yield writer.writerow(list(row)).encode()


def transactions_csv(rows: Iterable[TransactionRow]) -> Iterator[bytes]:
    return csv_lines(TransactionRow.CSV_HEADER, (row.csv_cells() for row in rows))


def campaigns_csv(report: CampaignReport) -> Iterator[bytes]:
    header = (
        "offer",
        "currency",
        "purchases",
        "revenue",
        "customers",
        "new_customers",
        "returning_customers",
        "cashback_cost",
        "charity_rewards",
        "return_on_cashback",
    )

    def cells(row) -> list[str]:
        ratio = row.return_on_cashback
        return [
            row.label,
            row.currency,
            str(row.purchases),
            row.money(row.revenue_minor),
            row.customer_cells["customers"].text,
            row.customer_cells["new"].text,
            row.customer_cells["returning"].text,
            row.money(row.cost_minor),
            row.money(row.charity_minor),
            "" if ratio is None else str(ratio),
        ]

    return csv_lines(header, [cells(row) for row in [*report.rows, *report.totals]])


def filename(merchant: Merchant, what: str, start: object, end: object, fmt: str) -> str:
    return f"{merchant.slug or 'merchant'}-{what}-{start}-{end}.{fmt}"


def _pdf(template: str, context: dict) -> bytes:
    html = render_to_string(
        template,
        {**context, "platform_name": settings.PLATFORM_NAME, "time_zone": settings.TIME_ZONE, "now": timezone.now()},
    )
    stylesheet = CSS(filename=finders.find("css/report.css"))
    # No base_url: the report uses no other files, so WeasyPrint fetches nothing.
    return HTML(string=html).write_pdf(stylesheets=[stylesheet])


def summary_pdf(*, merchant: Merchant, campaigns: CampaignReport, people: Demographics) -> bytes:
    """Campaign KPIs and who the customers are, for one period."""
    return _pdf("insights/pdf/summary.html", {"merchant": merchant, "report": campaigns, "people": people})


def transactions_pdf(
    *,
    merchant: Merchant,
    filters: TransactionFilters,
    rows: Iterable[TransactionRow],
    generated_at: datetime | None = None,
) -> bytes:
    return _pdf(
        "insights/pdf/transactions.html",
        {"merchant": merchant, "filters": filters, "rows": list(rows), "generated_at": generated_at},
    )
