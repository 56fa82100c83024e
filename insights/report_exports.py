"""Report downloads too large to write in the request (F-P3): start one, build its file in a task on
the `reports` queue with progress the page polls, offer it to the merchant's team until it expires,
sweep the file away after. The same shape as accounts' data export (accounts/data_export.py).

A file is written to a temporary file row by row and stored whole at the end, so memory stays flat
and no half file is ever offered. docs/reports.md.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from insights import report_files
from insights.errors import ReportExportExpiredError, ReportExportNotFoundError, ReportExportNotReadyError
from insights.export_models import ReportExport
from insights.report_selectors import TransactionFilters, transaction_rows, transactions

if TYPE_CHECKING:
    from accounts.models import User
    from merchants.models import Merchant

PROGRESS_EVERY_ROWS = 2_000


def filters_key(filters: dict) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()


def report_export_start(
    *, merchant: Merchant, user: User, fmt: str, filters: TransactionFilters
) -> tuple[ReportExport, bool]:
    """Start preparing the transactions of ``filters`` as ``fmt``, or return the same one already
    running for this person (two clicks start one: a partial unique index). Returns the export and
    whether this call started it. The build runs after commit."""
    data = filters.as_json()
    key = filters_key(data)
    running = ReportExport.objects.filter(
        merchant=merchant,
        requested_by=user,
        kind=ReportExport.Kind.TRANSACTIONS,
        fmt=fmt,
        filters_key=key,
        status__in=[ReportExport.Status.QUEUED, ReportExport.Status.RUNNING],
    )
    existing = running.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            export = ReportExport.objects.create(
                merchant=merchant,
                requested_by=user,
                kind=ReportExport.Kind.TRANSACTIONS,
                fmt=fmt,
                filters=data,
                filters_key=key,
            )
            transaction.on_commit(lambda: _enqueue_build(export.pk))
    except IntegrityError:
        return running.get(), False
    return export, True


def _enqueue_build(export_id: int) -> None:
    from insights.tasks import report_export_build  # insights.tasks imports this module: a cycle

    report_export_build.delay(export_id)


def _progress(export_id: int, *, rows_done: int, rows_total: int) -> None:
    percent = min(95, int(rows_done * 95 / rows_total)) if rows_total else 95
    ReportExport.objects.filter(pk=export_id).update(rows_done=rows_done, percent=percent, updated_at=timezone.now())


def report_export_build(*, export_id: int) -> ReportExport | None:
    """Write the file of export ``export_id`` (the task's body). Safe to run twice: a ready, expired
    or failed export is left as it is, and a run that died half-way starts again from the beginning."""
    with transaction.atomic():
        export = ReportExport.objects.select_for_update().select_related("merchant").filter(pk=export_id).first()
        if export is None or not export.is_running:
            return export
        export.status = ReportExport.Status.RUNNING
        export.save(update_fields=["status", "updated_at"])
    merchant = export.merchant
    filters = TransactionFilters.from_json(export.filters)
    rows_total = transactions(merchant_id=merchant.pk, filters=filters).count()
    ReportExport.objects.filter(pk=export_id).update(rows_total=rows_total, rows_done=0, percent=0)
    with tempfile.TemporaryFile() as scratch:
        rows = _counted(
            transaction_rows(merchant_id=merchant.pk, filters=filters), export_id=export_id, rows_total=rows_total
        )
        if export.fmt == ReportExport.Format.PDF:
            scratch.write(report_files.transactions_pdf(merchant=merchant, filters=filters, rows=rows))
        else:
            for line in report_files.transactions_csv(rows):
                scratch.write(line)
        size = scratch.tell()
        scratch.seek(0)
        now = timezone.now()
        name = report_files.filename(merchant, "transactions", filters.period.start, filters.period.end, export.fmt)
        with transaction.atomic():
            export = ReportExport.objects.select_for_update().get(pk=export_id)
            if not export.is_running:
                return export
            if export.file:
                export.file.delete(save=False)
            export.file.save(name, File(scratch), save=False)
            export.size_bytes = size
            export.status = ReportExport.Status.READY
            export.rows_done, export.rows_total, export.percent = rows_total, rows_total, 100
            export.ready_at = now
            export.expires_at = now + timedelta(days=settings.REPORT_EXPORT_TTL_DAYS)
            export.save()
    return export


def _counted(rows, *, export_id: int, rows_total: int):
    """Pass the rows on, saving the progress every ``PROGRESS_EVERY_ROWS`` (outside any transaction,
    so the page sees it move)."""
    for done, row in enumerate(rows, start=1):
        yield row
        if done % PROGRESS_EVERY_ROWS == 0:
            _progress(export_id, rows_done=done, rows_total=rows_total)


def report_export_fail(*, export_id: int) -> None:
    """Mark a build the task gave up on as failed, so the person can start another."""
    ReportExport.objects.filter(
        pk=export_id, status__in=[ReportExport.Status.QUEUED, ReportExport.Status.RUNNING]
    ).update(status=ReportExport.Status.FAILED, updated_at=timezone.now())


def report_export_for_download(*, merchant: Merchant, export_id: int) -> ReportExport:
    """The export's file for a member of ``merchant``. Another merchant's export is "not found"; an
    expired one ``ReportExportExpiredError`` (410); one still being built ``ReportExportNotReadyError``."""
    export = ReportExport.objects.filter(pk=export_id, merchant=merchant).first()
    if export is None:
        raise ReportExportNotFoundError()
    if export.status == ReportExport.Status.EXPIRED or (
        export.status == ReportExport.Status.READY
        and export.expires_at is not None
        and export.expires_at <= timezone.now()
    ):
        raise ReportExportExpiredError()
    if export.status != ReportExport.Status.READY:
        raise ReportExportNotReadyError()
    return export


def report_exports_sweep(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry and mark them expired; returns how many. Safe to
    run twice (an expired export is skipped)."""
    now = now or timezone.now()
    swept = 0
    due = ReportExport.objects.filter(status=ReportExport.Status.READY, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    for export_id in list(due):
        with transaction.atomic():
            export = (
                ReportExport.objects.select_for_update().filter(pk=export_id, status=ReportExport.Status.READY).first()
            )
            if export is None:
                continue
            if export.file:
                export.file.delete(save=False)
            export.status = ReportExport.Status.EXPIRED
            export.save(update_fields=["file", "status", "updated_at"])
            swept += 1
    return swept
