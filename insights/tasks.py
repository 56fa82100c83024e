"""Celery entry points of the insights app: folding figure changes (queue `default`), an export's build
and the expiry sweep (queue `reports`)."""

from celery import shared_task
from django.db import OperationalError

from insights import report_exports
from insights.figures import figure_changes_fold


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


@shared_task(acks_late=True)
def figure_changes_fold_due() -> int:
    """Fold the recorded changes into the figures (beat, every minute); safe twice and in parallel.
    At most 100 batches a run, so a run under a flood ends and the next one carries on."""
    total = 0
    for _ in range(100):
        folded = figure_changes_fold(limit=1000)
        total += folded
        if folded < 1000:
            break
    return total
