"""Celery entry points of programmes. Each is safe to run twice."""

from celery import shared_task

from programmes.catalogue import redemptions_settle_stale


@shared_task
def redemptions_settle() -> int:
    """Every 5 minutes: issue or fail catalogue redemptions left pending (a process died between the
    hold and the voucher); their holds would otherwise only expire, with the stock still taken."""
    return redemptions_settle_stale()
