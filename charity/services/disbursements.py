"""Monthly disbursements: what each charity is owed, moved into transit, sent by Stripe with a
stored key (exactly once), then settled or returned. docs/charity.md describes the steps.
"""

import logging
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cashback.providers.stripe_gateway import StripeGatewayError, get_stripe_gateway
from charity import selectors
from charity.errors import DisbursementNotPossibleError
from charity.models import Charity, Disbursement
from charity.services.payable_accounts import charity_payable_account_open
from wallet.errors import InsufficientFundsError
from wallet.models import AccountKind, JournalKind
from wallet.services import (
    platform_account,
    transaction_post,
    transfer,
)

logger = logging.getLogger(__name__)


def disbursement_key(*, charity_id: int, currency: str, period: date) -> str:
    return f"charity-disbursement:{int(charity_id)}:{currency}:{period:%Y-%m}"


def disbursement_open(*, charity_id: int, currency: str, period: date) -> Disbursement | None:
    """Step 1 of a disbursement: record it and move the money into transit, in one transaction.

    Takes what the charity is owed in ``currency`` now (its payable balance less holds) off its
    payable account into the platform's ``payouts_in_transit``, and stores the Disbursement row
    with the idempotency key that the Stripe call will carry. Once per charity, currency and
    month: a second call returns the first row. Returns None when nothing is owed, or the
    charity has no Stripe account or is missing.
    """
    period = period.replace(day=1)
    key = disbursement_key(charity_id=charity_id, currency=currency, period=period)
    existing = Disbursement.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    charity = Charity.objects.filter(pk=charity_id).first()
    if charity is None or not charity.stripe_account_id:
        return None
    payable = selectors.charity_payable_account(charity_id=charity_id, currency=currency)
    amount = payable.available if payable is not None else 0
    if payable is None or amount <= 0:
        return None
    try:
        with transaction.atomic():
            # The row first: a concurrent run waits on its unique key, then fails and reads ours.
            disbursement = Disbursement.objects.create(
                charity=charity,
                currency=currency,
                period=period,
                amount_minor=amount,
                destination=charity.stripe_account_id,
                idempotency_key=key,
            )
            transaction_post(
                idempotency_key=disbursement.ledger_key,
                kind=JournalKind.DONATION_DISBURSEMENT,
                entries=transfer(
                    debit=payable,
                    credit=platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=currency),
                    amount=amount,
                ),
                memo=f"Disbursement to {charity.name} for {period:%B %Y}"[:255],
                causes={"disbursement": disbursement.pk, "charity": charity.pk},
            )
    except IntegrityError:
        return Disbursement.objects.filter(idempotency_key=key).first()
    except InsufficientFundsError:
        # A refund took money back between the read and the post: nothing was written; the
        # next run takes what is owed then.
        logger.warning("Disbursement %s skipped: the payable balance changed.", key)
        return None
    return disbursement


def _previous_month(today: date) -> date:
    first = today.replace(day=1)
    return first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)


def disbursements_open_due(*, today: date | None = None) -> list[int]:
    """Step 1 for every charity that is owed money: one Disbursement per charity and currency for last month.

    Returns the ids of the disbursements opened (or found already open) in this run.
    """
    today = today or timezone.localdate()
    period = _previous_month(today)
    ids = []
    for account in selectors.charity_payables_owed():
        charity_id = int(account.owner_key.removeprefix(selectors.OWNER_PREFIX))
        disbursement = disbursement_open(charity_id=charity_id, currency=account.currency, period=period)
        if disbursement is not None and disbursement.status == Disbursement.Status.PROCESSING:
            ids.append(disbursement.pk)
    return ids


def disbursement_send(*, disbursement_id: int) -> Disbursement:
    """Steps 2 and 3: the Stripe transfer (with the stored key) and recording its result.

    Safe to run any number of times, concurrently too: a disbursement that is no longer
    processing is returned as it is; Stripe answers a repeated key with the first transfer; the
    result is recorded under the row's lock, once. A refusal by Stripe (a ``StripeGatewayError``
    that is not ``retryable``)
    fails the disbursement and returns the money to the charity's payable account; any other
    error (network, timeout, rate limit, Stripe's 5xx, a crash) leaves it processing for the next
    run and is raised.
    """
    disbursement = Disbursement.objects.select_related("charity").get(pk=disbursement_id)
    if disbursement.status != Disbursement.Status.PROCESSING:
        return disbursement
    Disbursement.objects.filter(pk=disbursement.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    gateway = get_stripe_gateway()
    try:
        result = gateway.transfer_create(
            amount_minor=disbursement.amount_minor,
            currency=disbursement.currency,
            destination=disbursement.destination,
            idempotency_key=disbursement.idempotency_key,
            metadata={
                "disbursement": str(disbursement.pk),
                "charity": str(disbursement.charity_id),
                "period": f"{disbursement.period:%Y-%m}",
            },
        )
    except Exception as error:
        if _is_refusal(error):
            return disbursement_fail(disbursement_id=disbursement.pk, reason=str(error) or type(error).__name__)
        Disbursement.objects.filter(pk=disbursement.pk).update(
            last_error=f"{type(error).__name__}: {error}"[:500], updated_at=timezone.now()
        )
        raise
    return disbursement_record_paid(disbursement_id=disbursement.pk, transfer_id=str(result["id"]))


def _is_refusal(error: Exception) -> bool:
    """Whether Stripe definitively refused the transfer (the same call with the same key cannot succeed)."""
    return isinstance(error, StripeGatewayError) and not error.retryable


def disbursement_record_paid(*, disbursement_id: int, transfer_id: str) -> Disbursement:
    """Step 3: the transfer exists; settle the money in transit and mark the disbursement paid. Idempotent."""
    if not transfer_id:
        raise DisbursementNotPossibleError(_("A paid disbursement needs its Stripe transfer id."))
    with transaction.atomic():
        disbursement = Disbursement.objects.select_for_update().select_related("charity").get(pk=disbursement_id)
        if disbursement.status == Disbursement.Status.PAID:
            return disbursement
        if disbursement.status != Disbursement.Status.PROCESSING:
            raise DisbursementNotPossibleError(
                _("Disbursement %(pk)s is %(status)s.") % {"pk": disbursement.pk, "status": disbursement.status}
            )
        transaction_post(
            idempotency_key=f"{disbursement.idempotency_key}:settle",
            kind=JournalKind.DONATION_DISBURSEMENT,
            entries=transfer(
                debit=platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=disbursement.currency),
                credit=platform_account(kind=AccountKind.SETTLEMENT, currency=disbursement.currency),
                amount=disbursement.amount_minor,
            ),
            # Not the transfer's id: an outside id stays on the disbursement row, out of the ledger.
            memo=f"Stripe transfer to {disbursement.charity.name}"[:255],
            causes={"disbursement": disbursement.pk, "charity": disbursement.charity_id},
        )
        disbursement.status = Disbursement.Status.PAID
        disbursement.stripe_transfer_id = transfer_id
        disbursement.paid_at = timezone.now()
        disbursement.last_error = ""
        disbursement.save(update_fields=["status", "stripe_transfer_id", "paid_at", "last_error", "updated_at"])
    return disbursement


def disbursement_fail(*, disbursement_id: int, reason: str) -> Disbursement:
    """Stripe refused the transfer: give the money back to the charity's payable account. Idempotent."""
    with transaction.atomic():
        disbursement = Disbursement.objects.select_for_update().select_related("charity").get(pk=disbursement_id)
        if disbursement.status == Disbursement.Status.FAILED:
            return disbursement
        if disbursement.status != Disbursement.Status.PROCESSING:
            raise DisbursementNotPossibleError(
                _("Disbursement %(pk)s is %(status)s.") % {"pk": disbursement.pk, "status": disbursement.status}
            )
        transaction_post(
            idempotency_key=f"{disbursement.idempotency_key}:return",
            kind=JournalKind.DONATION_DISBURSEMENT,
            entries=transfer(
                debit=platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=disbursement.currency),
                credit=charity_payable_account_open(charity_id=disbursement.charity_id, currency=disbursement.currency),
                amount=disbursement.amount_minor,
            ),
            memo=f"Disbursement to {disbursement.charity.name} refused"[:255],
            causes={"disbursement": disbursement.pk, "charity": disbursement.charity_id},
        )
        disbursement.status = Disbursement.Status.FAILED
        disbursement.failed_at = timezone.now()
        disbursement.last_error = reason[:500]
        disbursement.save(update_fields=["status", "failed_at", "last_error", "updated_at"])
    return disbursement
