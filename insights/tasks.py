"""Celery entry points of the insights app."""

from celery import shared_task

from insights.figures import figure_changes_fold


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
