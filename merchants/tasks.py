"""Celery entry points of merchants: each calls one service and is safe to run twice."""

from celery import shared_task

from merchants.idempotency import partner_requests_purge


@shared_task
def partner_requests_purge_old() -> int:
    """Forget partner API responses stored for Idempotency-Key replays past the retention period."""
    return partner_requests_purge()
