"""Download my data (F-A5): start an export, build its zip in a task, offer it until it expires.

The zip holds, per section registered in ``accounts.privacy_registry``, ``<name>.json`` and
``<name>.csv`` with the same rows, and a ``README.txt`` saying what each file is. The file lives in
Django's default storage under ``exports/``; only its owner may download it, until ``expires_at``
(``DATA_EXPORT_TTL_DAYS``); the beat sweep deletes it afterwards. docs/privacy.md.
"""

import csv
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import privacy_registry
from accounts.errors import DataExportExpiredError, DataExportNotFoundError, DataExportNotReadyError
from accounts.models import DataExport, User


def _plain(value: Any) -> Any:
    """A value JSON and CSV can both hold as it is: dates as ISO text, money as decimal text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def csv_cell(value: Any) -> str:
    """How a plain value is written to CSV (None is an empty cell); the JSON file keeps its type."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def section_json(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps(rows, indent=2, ensure_ascii=False).encode()


def section_csv(rows: list[dict[str, Any]]) -> bytes:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue().encode()


def _readme(user: User, sections: list[privacy_registry.ExportSection], counts: dict[str, int]) -> bytes:
    lines = [
        "Your data from the cashback platform",
        "",
        f"Prepared {timezone.now():%Y-%m-%d %H:%M %Z} for account number {user.pk}.",
        "Every section comes twice, with the same rows: as JSON (<name>.json) and as CSV (<name>.csv,",
        "comma-separated, UTF-8, one header row). Amounts are decimal text in the currency named beside",
        "them; times are ISO 8601 with their time zone. Card numbers are never stored: cards show the",
        "first six and last four digits only.",
        "",
        "Files:",
    ]
    for section in sections:
        lines.append(f"- {section.name}.json / {section.name}.csv: {section.title} ({counts[section.name]} rows).")
        lines.append(f"  {section.description}")
    lines += ["", "What we keep after you close your account, and why: see the privacy page in your wallet."]
    return ("\n".join(lines) + "\n").encode()


def data_export_start(*, user: User) -> tuple[DataExport, bool]:
    """Start an export of everything the platform holds about ``user``, or return the one running.

    Returns the export and whether this call started it. One export runs at a time per person (a
    partial unique index), so two clicks at once start one. The build runs after commit.
    """
    running = DataExport.objects.filter(user=user, status__in=[DataExport.Status.QUEUED, DataExport.Status.RUNNING])
    existing = running.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user)
            transaction.on_commit(lambda: _enqueue_build(export.pk))
    except IntegrityError:
        # A concurrent request started one first; answer with it.
        return running.get(), False
    return export, True


def _enqueue_build(export_id: int) -> None:
    from accounts.tasks import data_export_build  # accounts.tasks imports this module: a cycle

    data_export_build.delay(export_id)


def _progress(export: DataExport, *, percent: int, step: str) -> None:
    export.percent, export.step = percent, step[:100]
    DataExport.objects.filter(pk=export.pk).update(percent=percent, step=export.step, updated_at=timezone.now())


def data_export_build(*, export_id: int) -> DataExport | None:
    """Build the zip of export ``export_id`` (the task's body). Safe to run twice: a ready, expired
    or failed export is left as it is, and a run that died half-way starts again from the beginning
    (the zip is written whole at the end, so no half file is ever offered).

    Progress is saved after each section outside any long transaction, so the page sees it move.
    """
    with transaction.atomic():
        export = DataExport.objects.select_for_update().select_related("user").filter(pk=export_id).first()
        if export is None or not export.is_running:
            return export
        export.status = DataExport.Status.RUNNING
        export.save(update_fields=["status", "updated_at"])
    user = export.user
    sections = privacy_registry.sections()
    buffer = io.BytesIO()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, section in enumerate(sections):
            _progress(export, percent=int(index * 95 / len(sections)), step=section.title)
            rows = [{key: _plain(value) for key, value in row.items()} for row in section.rows(user)]
            counts[section.name] = len(rows)
            archive.writestr(f"{section.name}.json", section_json(rows))
            archive.writestr(f"{section.name}.csv", section_csv(rows))
        archive.writestr("README.txt", _readme(user, sections, counts))
    _progress(export, percent=95, step="Storing the file")
    now = timezone.now()
    with transaction.atomic():
        export = DataExport.objects.select_for_update().get(pk=export_id)
        if not export.is_running:
            return export
        if export.file:
            export.file.delete(save=False)
        export.file.save(f"cashback-data-{now:%Y%m%d-%H%M%S}.zip", ContentFile(buffer.getvalue()), save=False)
        export.size_bytes = buffer.tell()
        export.status = DataExport.Status.READY
        export.percent, export.step = 100, ""
        export.ready_at = now
        export.expires_at = now + timedelta(days=settings.DATA_EXPORT_TTL_DAYS)
        export.save()
    return export


def data_export_fail(*, export_id: int) -> None:
    """Mark a build the task gave up on as failed, so the person can start another."""
    DataExport.objects.filter(pk=export_id, status__in=[DataExport.Status.QUEUED, DataExport.Status.RUNNING]).update(
        status=DataExport.Status.FAILED, updated_at=timezone.now()
    )


def data_export_for_download(*, user: User, export_id: int) -> DataExport:
    """The export's file for its owner. Someone else's export is "not found"; an expired one is
    ``DataExportExpiredError`` (410); one still being built ``DataExportNotReadyError`` (409)."""
    export = DataExport.objects.filter(pk=export_id, user=user).first()
    if export is None:
        raise DataExportNotFoundError()
    if export.status == DataExport.Status.EXPIRED or (
        export.status == DataExport.Status.READY
        and export.expires_at is not None
        and export.expires_at <= timezone.now()
    ):
        raise DataExportExpiredError()
    if export.status != DataExport.Status.READY:
        raise DataExportNotReadyError()
    return export


def data_export_filename(export: DataExport) -> str:
    """The name the zip is downloaded as (the stored name without its folders)."""
    return (export.file.name or "").rsplit("/", 1)[-1]


def data_exports_sweep(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry and mark them expired; returns how many."""
    now = now or timezone.now()
    swept = 0
    for export_id in DataExport.objects.filter(status=DataExport.Status.READY, expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            export = DataExport.objects.select_for_update().filter(pk=export_id, status=DataExport.Status.READY).first()
            if export is None:
                continue
            if export.file:
                export.file.delete(save=False)
            export.status = DataExport.Status.EXPIRED
            export.save(update_fields=["file", "status", "updated_at"])
            swept += 1
    return swept


def data_exports_delete(*, user: User) -> int:
    """Remove every export of ``user`` and its file (closing the account). Files go after commit."""
    exports = list(DataExport.objects.filter(user=user))
    names = [export.file.name for export in exports if export.file.name]
    storage = DataExport._meta.get_field("file").storage

    def delete_files() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete_files)
    DataExport.objects.filter(pk__in=[export.pk for export in exports]).delete()
    return len(exports)
