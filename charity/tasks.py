"""Celery entry points of the charity app: the monthly disbursement and its retries. Each is safe to run twice."""

import logging

from celery import shared_task

from cashback.providers.stripe_gateway import StripeGatewayError
from charity import selectors, services

logger = logging.getLogger(__name__)


@shared_task
def disbursements_monthly() -> list[int]:
    """On the 1st: open last month's disbursement for every charity that is owed money, then send each.

    Opening is once per charity, currency and month (a second run finds the rows); sending is
    exactly once per disbursement (services.disbursement_send). Returns the ids opened.
    """
    ids = services.disbursements_open_due()
    for disbursement_id in ids:
        _send(disbursement_id)
    return ids


@shared_task
def disbursements_retry() -> int:
    """Hourly: send again every disbursement still processing (a crash, a timeout, Stripe down). Returns how many."""
    ids = list(selectors.disbursements_open().values_list("pk", flat=True))
    for disbursement_id in ids:
        _send(disbursement_id)
    return len(ids)


@shared_task
def disbursement_send(disbursement_id: int) -> str:
    """Send one disbursement (the staff page's "send now" enqueues this)."""
    return _send(disbursement_id)


def _send(disbursement_id: int) -> str:
    try:
        return services.disbursement_send(disbursement_id=disbursement_id).status
    except StripeGatewayError as error:
        # Retryable: the row stays processing and the hourly retry sends it again with the same key.
        logger.warning("Disbursement %s not sent yet: %s", disbursement_id, error)
        return "processing"
