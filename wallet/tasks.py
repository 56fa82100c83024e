import logging

from celery import shared_task
from django.db import OperationalError

from cashback.providers.stripe_gateway import StripeGatewayError
from wallet import payout_receipts, payouts, statements
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


# --- Payouts (wallet/payouts.py) --------------------------------------------------------
# Retryable Stripe errors (network, rate limit, Stripe's 5xx) and database hiccups retry with
# backoff; the sweep (payouts_resume) picks up whatever still did not reach Stripe.


@shared_task(
    autoretry_for=(StripeGatewayError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def payout_process(payout_id: int) -> str:
    """Send a payout to Stripe (transfer, then payout). Safe to run twice; returns the status."""
    return payouts.payout_process(payout_id=payout_id).status


@shared_task(
    autoretry_for=(StripeGatewayError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def payout_transfer_reverse(payout_id: int) -> bool:
    """Pull a failed payout's transfer back from the connected account; True once reversed."""
    return bool(payouts.payout_transfer_reverse(payout_id=payout_id).stripe_reversal_id)


@shared_task
def payouts_resume() -> int:
    """Enqueue payouts stuck before Stripe, unfinished reversals and receipts not yet sent; returns how many."""
    receipts = payout_receipts.payout_receipts_due()
    for payout_id in receipts:
        payout_receipt_send.delay(payout_id)
    return payouts.payouts_resume_due() + len(receipts)


@shared_task(autoretry_for=(OSError, OperationalError), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def payout_receipt_send(payout_id: int) -> bool:
    """E-mail the receipt (with its PDF) of a paid automatic payout, once; safe to run twice."""
    return payout_receipts.payout_receipt_send(payout_id=payout_id)


@shared_task
def statements_monthly(month: str | None = None) -> int:
    """On the 1st: one statement task per consumer and currency with movements last month. Returns how many."""
    period = statements.Period.parse(month) if month else statements.Period.current().previous()
    consumers = statements.statement_consumers(period=period)
    for user_id, currency in consumers:
        statement_generate.delay(user_id, period.key, currency)
    return len(consumers)


@shared_task
def statement_generate(user_id: int, month: str, currency: str) -> int:
    """Generate and store one finished month's statement and tell the consumer; safe to run twice."""
    return statements.statement_publish(user_id=user_id, period=statements.Period.parse(month), currency=currency).pk
