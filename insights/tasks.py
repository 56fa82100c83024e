"""Celery entry points of the reports (queue `reports`): an export's build and the expiry sweep."""

from celery import shared_task
from django.db import OperationalError

from insights import report_exports


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def report_export_build(export_id: int) -> str:
    """Write one export's file; safe to run twice (a finished export is left alone)."""
    try:
        export = report_exports.report_export_build(export_id=export_id)
    except OperationalError:
        raise
    except Exception:
        # Not a hiccup worth retrying: mark it failed so the person can start another, and let it show.
        report_exports.report_export_fail(export_id=export_id)
        raise
    return export.status if export is not None else "missing"


@shared_task
def report_exports_sweep() -> int:
    """Delete the files of expired report exports; returns how many."""
    return report_exports.report_exports_sweep()
