"""Celery entry points of transaction monitoring; each calls one service and is safe to run twice."""

from celery import shared_task

from monitoring import services


@shared_task
def monitoring_scan() -> int:
    """Every minute: the rules over purchases, cards and referrals changed since the cursor."""
    return services.monitoring_scan()


@shared_task
def monitoring_sweep() -> int:
    """Nightly: the rules over everything changed in the last MONITORING_SWEEP_HOURS."""
    return services.monitoring_sweep()
