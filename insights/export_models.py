"""Report exports too large to write in the request: built by a task on the `reports` queue,
offered to the merchant's team until ``expires_at``, then their file is deleted (docs/reports.md).

Imported by ``insights/models.py`` so Django finds the model.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _export_path(export: ReportExport, filename: str) -> str:
    return f"reports/{export.merchant_id}/{export.pk}/{filename}"


class ReportExport(models.Model):
    """One prepared download of a merchant's report: who asked, what (``kind``, ``fmt`` and the
    filters), how far it is, and the file once ready. Written only by ``insights.report_exports``."""

    class Kind(models.TextChoices):
        TRANSACTIONS = "transactions", _("Transactions")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        PDF = "pdf", _("PDF")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being prepared")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="report_exports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    fmt = models.CharField(max_length=4, choices=Format.choices)
    # The validated filters as plain JSON (dates ISO, ids as numbers) and their digest: one export of
    # the same thing runs at a time per person.
    filters = models.JSONField(default=dict)
    filters_key = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    percent = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=_export_path, max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="reportexport_merchant_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "requested_by", "kind", "fmt", "filters_key"],
                condition=models.Q(status__in=["queued", "running"]),
                name="reportexport_one_running",
            ),
            models.CheckConstraint(condition=models.Q(percent__lte=100), name="reportexport_percent_at_most_100"),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | models.Q(ready_at__isnull=False, expires_at__isnull=False),
                name="reportexport_ready_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"report export {self.pk} of merchant {self.merchant_id}: {self.kind}.{self.fmt} {self.status}"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_downloadable(self) -> bool:
        return self.status == self.Status.READY and self.expires_at is not None and self.expires_at > timezone.now()

    @property
    def filename(self) -> str:
        return (self.file.name or "").rsplit("/", 1)[-1]
