"""Celery entry points of the accounts app: the data export's build and its expiry sweep."""

from celery import shared_task
from django.db import OperationalError

from accounts import data_export


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def data_export_build(export_id: int) -> str:
    """Build one export's zip; safe to run twice (a finished export is left alone)."""
    try:
        export = data_export.data_export_build(export_id=export_id)
    except OperationalError:
        raise
    except Exception:
        # Not a hiccup worth retrying: mark it failed so the person can start another, and let it show.
        data_export.data_export_fail(export_id=export_id)
        raise
    return export.status if export is not None else "missing"


@shared_task
def data_exports_sweep() -> int:
    """Delete the files of expired exports; returns how many."""
    return data_export.data_exports_sweep()
