import logging

from celery import shared_task

from wallet.invariants import ledger_violations
from wallet.services import hold_expire_due

logger = logging.getLogger(__name__)


@shared_task
def holds_expire() -> int:
    """Expire the pending holds whose time is up; returns how many. Safe to run twice."""
    return hold_expire_due()


@shared_task
def ledger_check() -> int:
    """Nightly invariant check; logs an error per problem and returns how many were found."""
    violations = ledger_violations()
    for violation in violations:
        logger.error("Ledger invariant broken: %s", violation)
    if violations:
        logger.error("Ledger check failed: %d problems; run `manage.py ledger_check` for the report.", len(violations))
    else:
        logger.info("Ledger check passed.")
    return len(violations)
