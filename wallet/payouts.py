"""Payouts: a consumer's available cashback to their bank account, through Stripe Connect.

Flow (docs/payouts.md has the whole story):

1. ``payout_account_start`` creates the consumer's Express account (once; the Stripe call
   has an idempotency key per user) and returns Stripe's onboarding link;
   ``account.updated`` (``payout_account_state_apply``) keeps its capability current.
2. ``payout_request`` checks the minimum, the onboarding and the available balance, and in
   one database transaction creates the payout — with the idempotency keys of its Stripe
   calls — and moves the money consumer available → payouts in transit
   (``payout:<id>:request``). Above ``PAYOUT_REVIEW_THRESHOLD_MINOR`` it is held for
   review (``payout_release`` / ``payout_reject``); otherwise processing is enqueued on commit.
3. ``payout_process`` (Celery, safe to run any number of times): a transfer to the
   connected account, then a payout on it, each with its stored key, each id recorded
   after the call. A crash between a call and the record is repaired by running it again:
   the same key makes Stripe answer with the object it already created.
4. Webhooks settle it: ``payout.paid`` → paid (transit → settlement, ``payout:<id>:paid``);
   ``payout.failed`` / ``payout.canceled`` / ``transfer.reversed`` → failed, and the money
   goes back to the consumer once (``payout:<id>:return``). After a payout failure the
   transfer is reversed (``payout_transfer_reverse``) so the money is not both on the
   connected account and in the wallet.

Ledger keys are derived from the payout id, so every posting happens at most once
whatever retries, duplicates and crashes occur.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.blocking import ensure_not_blocked
from cashback import events
from cashback.keyed_ids import external_key
from cashback.providers.stripe_gateway import StripeGatewayError, get_stripe_gateway
from wallet.errors import (
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidAmountError,
    PayoutAccountNotReadyError,
    PayoutBelowMinimumError,
    PayoutExceedsBalanceError,
    PayoutNotHeldError,
    UnknownCurrencyError,
)
from wallet.models import (
    AccountKind,
    JournalKind,
    JournalTransaction,
    Payout,
    PayoutAccount,
    PayoutStatus,
    PayoutStatusChange,
)
from wallet.money import CURRENCY_EXPONENTS, MAX_MINOR_UNITS, minor_to_decimal_string
from wallet.services import EntrySpec, account_get_or_create, platform_account, transaction_post, transfer

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


def _crash_point(step: str) -> None:
    """A named step of the payout flow. Does nothing; the crash tests make it raise."""


# --- Connect onboarding -----------------------------------------------------------------


def payout_account_start(*, user: User, refresh_url: str, return_url: str) -> str:
    """The Stripe onboarding URL for the consumer, creating their Express account on first use.

    The account is created with an idempotency key per user, so concurrent or repeated
    starts make one Stripe account; the unique user column keeps one row.
    """
    gateway = get_stripe_gateway()
    account = PayoutAccount.objects.filter(user=user).first()
    if account is None:
        stripe_account_id = gateway.connected_account_create(
            email=user.email or "",
            country=settings.PAYOUT_CONNECT_COUNTRY,
            business_type="individual",
            idempotency_key=f"payout-account:{user.pk}:create",
            metadata={"user": str(user.pk), "purpose": "consumer_payouts"},
        )
        try:
            with transaction.atomic():
                account = PayoutAccount.objects.create(user=user, stripe_account_id=stripe_account_id)
        except IntegrityError:
            account = PayoutAccount.objects.get(user=user)
    # Account links are single-use: a new key per request (the SDK's network retries reuse it).
    return gateway.account_link_create(
        account_id=account.stripe_account_id,
        refresh_url=refresh_url,
        return_url=return_url,
        idempotency_key=f"payout-account:{user.pk}:link:{uuid.uuid4().hex}",
    )


def payout_account_refresh(*, user: User) -> PayoutAccount | None:
    """Ask Stripe for the consumer's account state (the return page); None without an account."""
    account = PayoutAccount.objects.filter(user=user).first()
    if account is None:
        return None
    remote = get_stripe_gateway().account_retrieve(account_id=account.stripe_account_id)
    return payout_account_state_apply(
        stripe_account_id=account.stripe_account_id,
        payouts_enabled=bool(remote.get("payouts_enabled")),
        details_submitted=bool(remote.get("details_submitted")),
        state_at=timezone.now(),
    )


def payout_account_state_apply(
    *, stripe_account_id: str, payouts_enabled: bool, details_submitted: bool, state_at: datetime
) -> PayoutAccount | None:
    """Record Stripe's capability flags, unless a newer state is already held. None: not ours."""
    with transaction.atomic():
        account = PayoutAccount.objects.select_for_update().filter(stripe_account_id=stripe_account_id).first()
        if account is None:
            return None
        if account.state_at is not None and state_at < account.state_at:
            return account
        account.payouts_enabled = payouts_enabled
        account.details_submitted = details_submitted
        account.state_at = state_at
        account.save(update_fields=["payouts_enabled", "details_submitted", "state_at", "updated_at"])
        return account


# --- Requesting -------------------------------------------------------------------------


def payout_minimum(currency: str) -> int:
    return settings.PAYOUT_MINIMUM_MINOR_BY_CURRENCY.get(currency, settings.PAYOUT_MINIMUM_MINOR)


AUTOMATIC_KEY_PREFIX = "auto:"


def payout_fee(currency: str) -> int:
    """The fee a payout in ``currency`` costs now, in minor units (``PAYOUT_FEE_MINOR``; 0: none)."""
    return max(int(settings.PAYOUT_FEE_MINOR), 0)


def payout_request(
    *, user: User, amount_minor: int, currency: str, client_key: str = "", automatic: bool = False
) -> Payout:
    """Ask for a payout of ``amount_minor`` of the consumer's available cashback.

    Refuses (nothing changed) with ``UnknownCurrencyError``, ``InvalidAmountError``,
    ``PayoutBelowMinimumError``, ``PayoutAccountNotReadyError``, ``PayoutExceedsBalanceError``.
    ``client_key`` (the API's ``Idempotency-Key``) makes a resent request return the first
    payout; the same key for another amount raises ``IdempotencyConflictError``. ``automatic``: made
    at a period end without being asked (``wallet.payout_receipts``); its key starts with ``auto:``,
    which is reserved for it, and a receipt follows ``payout.paid``.
    """
    if client_key.startswith(AUTOMATIC_KEY_PREFIX) != automatic:
        raise IdempotencyConflictError(_("Idempotency keys starting with auto: are reserved for automatic payouts."))
    ensure_not_blocked(user=user)  # AccountBlockedError (403): a blocked person cannot pay out
    if currency not in CURRENCY_EXPONENTS:
        raise UnknownCurrencyError(_("Unknown currency: %(currency)s.") % {"currency": repr(currency)})
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or not 0 < amount_minor <= MAX_MINOR_UNITS:
        raise InvalidAmountError(_("The amount must be positive."))
    if client_key:
        existing = _payout_by_client_key(user=user, client_key=client_key, amount_minor=amount_minor, currency=currency)
        if existing is not None:
            return existing
    minimum = payout_minimum(currency)
    if amount_minor < minimum:
        message = f"The smallest payout is {minor_to_decimal_string(minimum, currency)} {currency}."
        raise PayoutBelowMinimumError(message, fields={"amount": [message]})
    fee = payout_fee(currency)
    if amount_minor <= fee:
        message = f"A payout must be more than its fee of {minor_to_decimal_string(fee, currency)} {currency}."
        raise PayoutBelowMinimumError(message, fields={"amount": [message]})
    account = PayoutAccount.objects.filter(user=user).first()
    if account is None or not account.is_ready:
        raise PayoutAccountNotReadyError()
    threshold = settings.PAYOUT_REVIEW_THRESHOLD_MINOR
    held = bool(threshold) and amount_minor > threshold
    try:
        with transaction.atomic():
            payout = _payout_create(
                user=user,
                account=account,
                amount_minor=amount_minor,
                currency=currency,
                fee=fee,
                client_key=client_key,
                held=held,
                automatic=automatic,
            )
    except IntegrityError:
        # A concurrent request with the same client key won; answer with its payout.
        existing = _payout_by_client_key(user=user, client_key=client_key, amount_minor=amount_minor, currency=currency)
        if existing is None:
            raise
        return existing
    return payout


def _payout_by_client_key(*, user: User, client_key: str, amount_minor: int, currency: str) -> Payout | None:
    existing = Payout.objects.filter(user=user, client_key=client_key).first()
    if existing is not None and (existing.amount, existing.currency) != (amount_minor, currency):
        raise IdempotencyConflictError(_("This Idempotency-Key was already used for a different payout."))
    return existing


def _payout_create(
    *,
    user: User,
    account: PayoutAccount,
    amount_minor: int,
    currency: str,
    fee: int,
    client_key: str,
    held: bool,
    automatic: bool = False,
) -> Payout:
    """Caller owns the transaction: the payout, its keys and its ledger posting commit together.

    One balanced transaction (``payout:<id>:request``): the whole amount leaves the consumer's
    available balance; the fee goes to platform revenue and the rest into payouts in transit,
    which is what Stripe is asked to move. The key makes the fee booked exactly once."""
    status = PayoutStatus.HELD if held else PayoutStatus.REQUESTED
    payout = Payout.objects.create(
        user=user,
        payout_account=account,
        stripe_account_id=account.stripe_account_id,
        amount=amount_minor,
        fee=fee,
        currency=currency,
        status=status,
        client_key=client_key,
        automatic=automatic,
    )
    # The Stripe idempotency keys are stored now, before any Stripe call can happen.
    payout.transfer_idempotency_key = f"payout:{payout.pk}:transfer"
    payout.payout_idempotency_key = f"payout:{payout.pk}:payout"
    payout.reversal_idempotency_key = f"payout:{payout.pk}:reversal"
    payout.save(update_fields=["transfer_idempotency_key", "payout_idempotency_key", "reversal_idempotency_key"])
    available = account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency)
    transit = platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=currency)
    entries = [EntrySpec.debit(available, amount_minor), EntrySpec.credit(transit, amount_minor - fee)]
    if fee:
        entries.append(EntrySpec.credit(platform_account(kind=AccountKind.PLATFORM_REVENUE, currency=currency), fee))
    _crash_point("request_before_ledger")
    try:
        transaction_post(
            idempotency_key=payout.request_key,
            kind=JournalKind.PAYOUT,
            entries=entries,
            memo="Payout to your bank account",
            causes={"payout": payout.pk},
        )
    except InsufficientFundsError:
        available.refresh_from_db()
        have = minor_to_decimal_string(max(available.available, 0), currency)
        message = f"You have {have} {currency} available."
        raise PayoutExceedsBalanceError(message, fields={"amount": [message]}) from None
    _crash_point("request_after_ledger")
    _history(payout, from_status="", reason="Held for review" if held else "")
    if not held:
        _enqueue_processing(payout.pk)
    return payout


def _enqueue_processing(payout_id: int) -> None:
    from wallet.tasks import payout_process  # wallet.tasks imports this module: a cycle

    transaction.on_commit(lambda: payout_process.delay(payout_id))


def _history(
    payout: Payout, *, from_status: str, reason: str = "", actor: User | None = None, stripe_event_id: str = ""
) -> None:
    PayoutStatusChange.objects.create(
        payout=payout,
        from_status=from_status,
        to_status=payout.status,
        reason=reason[:500],
        actor=actor,
        # Stripe's event id is outside text and the history is append-only: its keyed hash.
        stripe_event_id=external_key(namespace="stripe:event", value=stripe_event_id) if stripe_event_id else "",
    )


def _locked(payout_id: int) -> Payout:
    return Payout.objects.select_for_update().get(pk=payout_id)


# --- Staff review ----------------------------------------------------------------------


def payout_release(*, payout_id: int, actor: User) -> Payout:
    """A staff member lets a held payout go: it is processed now."""
    with transaction.atomic():
        payout = _locked(payout_id)
        if payout.status != PayoutStatus.HELD:
            raise PayoutNotHeldError()
        payout.status = PayoutStatus.REQUESTED
        payout.reviewed_by = actor
        payout.reviewed_at = timezone.now()
        payout.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        _history(payout, from_status=PayoutStatus.HELD, reason="Released after review", actor=actor)
        _enqueue_processing(payout.pk)
        return payout


def payout_reject(*, payout_id: int, actor: User, reason: str = "") -> Payout:
    """A staff member refuses a held payout: it fails and the money goes back to the consumer."""
    with transaction.atomic():
        payout = _locked(payout_id)
        if payout.status != PayoutStatus.HELD:
            raise PayoutNotHeldError()
        payout.reviewed_by = actor
        payout.reviewed_at = timezone.now()
        payout.save(update_fields=["reviewed_by", "reviewed_at", "updated_at"])
        return _fail(
            payout,
            code="rejected",
            message=reason or "Rejected after review.",
            reverse_transfer=False,
            actor=actor,
        )


# --- Processing (Celery) ---------------------------------------------------------------


def payout_process(*, payout_id: int) -> Payout:
    """Send a requested payout to Stripe: transfer, then payout. Safe to run again at any point.

    Each Stripe call carries the key stored with the payout at request time, so a call
    repeated after a crash gets Stripe's first answer. A retryable Stripe error propagates
    (the task retries); a refusal fails the payout and returns the money.
    """
    with transaction.atomic():
        payout = _locked(payout_id)
        if payout.status == PayoutStatus.REQUESTED:
            payout.status = PayoutStatus.PROCESSING
            payout.processing_at = timezone.now()
            payout.save(update_fields=["status", "processing_at", "updated_at"])
            _history(payout, from_status=PayoutStatus.REQUESTED)
        if payout.status != PayoutStatus.PROCESSING or payout.stripe_payout_id:
            return payout  # held, settled, or already handed to Stripe (the webhook finishes it)
        payout.attempts += 1
        payout.save(update_fields=["attempts", "updated_at"])
    gateway = get_stripe_gateway()
    metadata = {"payout": str(payout.pk), "user": str(payout.user_id)}

    _crash_point("before_transfer")
    if not payout.stripe_transfer_id:
        try:
            remote_transfer = gateway.transfer_create(
                amount_minor=payout.net_amount,
                currency=payout.currency,
                destination=payout.stripe_account_id,
                idempotency_key=payout.transfer_idempotency_key,
                metadata=metadata,
            )
        except StripeGatewayError as error:
            if error.retryable:
                raise
            return _fail_refused(payout.pk, error, reverse_transfer=False)
        _crash_point("after_transfer")
        with transaction.atomic():
            payout = _locked(payout_id)
            if not payout.stripe_transfer_id:
                payout.stripe_transfer_id = remote_transfer["id"]
                payout.save(update_fields=["stripe_transfer_id", "updated_at"])
            if payout.status != PayoutStatus.PROCESSING:
                return payout  # failed meanwhile (transfer.reversed)

    _crash_point("before_payout")
    try:
        remote_payout = gateway.payout_create(
            account_id=payout.stripe_account_id,
            amount_minor=payout.net_amount,
            currency=payout.currency,
            idempotency_key=payout.payout_idempotency_key,
            metadata=metadata,
        )
    except StripeGatewayError as error:
        if error.retryable:
            raise
        return _fail_refused(payout.pk, error, reverse_transfer=True)
    _crash_point("after_payout")
    with transaction.atomic():
        payout = _locked(payout_id)
        if not payout.stripe_payout_id:
            payout.stripe_payout_id = remote_payout["id"]
            payout.save(update_fields=["stripe_payout_id", "updated_at"])
    return payout


def _fail_refused(payout_id: int, error: StripeGatewayError, *, reverse_transfer: bool) -> Payout:
    with transaction.atomic():
        payout = _locked(payout_id)
        if payout.status in (PayoutStatus.FAILED, PayoutStatus.PAID):
            return payout
        return _fail(
            payout,
            code=error.stripe_code or "refused",
            message=error.message,
            reverse_transfer=reverse_transfer,
        )


def payout_transfer_reverse(*, payout_id: int) -> Payout:
    """Pull a failed payout's transfer back from the connected account (once, by its stored key)."""
    payout = Payout.objects.get(pk=payout_id)
    if not payout.reversal_needed or payout.stripe_reversal_id or not payout.stripe_transfer_id:
        return payout
    try:
        reversal = get_stripe_gateway().transfer_reversal_create(
            transfer_id=payout.stripe_transfer_id,
            amount_minor=payout.net_amount,
            idempotency_key=payout.reversal_idempotency_key,
            metadata={"payout": str(payout.pk)},
        )
    except StripeGatewayError as error:
        if error.retryable:
            raise
        # The money stays on the connected account; staff see it on the payouts page.
        logger.error("Payout %s: Stripe refused the transfer reversal: %s", payout.pk, error.message)
        return payout
    with transaction.atomic():
        payout = _locked(payout_id)
        if not payout.stripe_reversal_id:
            payout.stripe_reversal_id = reversal["id"]
            payout.reversal_needed = False
            payout.save(update_fields=["stripe_reversal_id", "reversal_needed", "updated_at"])
    return payout


def payouts_resume_due(*, now: datetime | None = None) -> int:
    """Enqueue payouts stuck before Stripe (a lost task, a crashed worker) and unfinished reversals."""
    from wallet.tasks import payout_process, payout_transfer_reverse  # wallet.tasks imports this module: a cycle

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PAYOUT_RESUME_AFTER_SECONDS)
    stuck = list(
        Payout.objects.filter(
            status__in=[PayoutStatus.REQUESTED, PayoutStatus.PROCESSING], stripe_payout_id="", updated_at__lte=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    for payout_id in stuck:
        payout_process.delay(payout_id)
    reversals = list(
        Payout.objects.filter(reversal_needed=True, stripe_reversal_id="", updated_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:1000]
    )
    for payout_id in reversals:
        payout_transfer_reverse.delay(payout_id)
    return len(stuck) + len(reversals)


# --- Settling (webhooks) ----------------------------------------------------------------


def payout_mark_paid(*, payout_id: int, stripe_payout_id: str = "", stripe_event_id: str = "") -> Payout:
    """Stripe paid the payout out: in transit → settlement, once. A failed payout stays failed."""
    with transaction.atomic():
        payout = _locked(payout_id)
        if payout.status in (PayoutStatus.PAID, PayoutStatus.FAILED):
            return payout
        _crash_point("paid_before_ledger")
        transit = platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=payout.currency)
        settlement = platform_account(kind=AccountKind.SETTLEMENT, currency=payout.currency)
        transaction_post(
            idempotency_key=payout.paid_key,
            kind=JournalKind.PAYOUT_SETTLEMENT,
            entries=transfer(debit=transit, credit=settlement, amount=payout.net_amount),
            memo=f"Payout {payout.pk} paid by Stripe",
            causes={"payout": payout.pk},
        )
        _crash_point("paid_after_ledger")
        previous = payout.status
        payout.status = PayoutStatus.PAID
        payout.paid_at = timezone.now()
        if stripe_payout_id and not payout.stripe_payout_id:
            payout.stripe_payout_id = stripe_payout_id
        payout.save(update_fields=["status", "paid_at", "stripe_payout_id", "updated_at"])
        _history(payout, from_status=previous, stripe_event_id=stripe_event_id)
        _announce_settled(payout)
        if payout.automatic:
            from wallet.tasks import payout_receipt_send  # wallet.tasks imports this module: a cycle

            payout_id = payout.pk
            transaction.on_commit(lambda: payout_receipt_send.delay(payout_id))
        return payout


def payout_mark_failed(
    *,
    payout_id: int,
    code: str,
    message: str,
    reverse_transfer: bool,
    stripe_event_id: str = "",
) -> Payout:
    """Stripe could not pay out (or took the transfer back): failed, money returned once."""
    with transaction.atomic():
        payout = _locked(payout_id)
        if payout.status == PayoutStatus.FAILED:
            if not reverse_transfer and payout.reversal_needed:
                # transfer.reversed after our own reversal request: the money is back.
                payout.reversal_needed = False
                payout.save(update_fields=["reversal_needed", "updated_at"])
            return payout
        return _fail(
            payout, code=code, message=message, reverse_transfer=reverse_transfer, stripe_event_id=stripe_event_id
        )


def _fail(
    payout: Payout,
    *,
    code: str,
    message: str,
    reverse_transfer: bool,
    actor: User | None = None,
    stripe_event_id: str = "",
) -> Payout:
    """Caller holds the payout's row lock inside a transaction. Returns the money to the consumer once.

    Before settlement the money is in transit; after a paid payout bounced it is back
    from the outside world (settlement).
    """
    previous = payout.status
    source_kind = AccountKind.SETTLEMENT if previous == PayoutStatus.PAID else AccountKind.PAYOUTS_IN_TRANSIT
    available = account_get_or_create(user=payout.user, kind=AccountKind.CONSUMER_AVAILABLE, currency=payout.currency)
    # The whole amount comes back: what was sent, and the fee, which a failed payout does not earn.
    entries = [
        EntrySpec.debit(platform_account(kind=source_kind, currency=payout.currency), payout.net_amount),
        EntrySpec.credit(available, payout.amount),
    ]
    if payout.fee:
        revenue = platform_account(kind=AccountKind.PLATFORM_REVENUE, currency=payout.currency)
        entries.append(EntrySpec.debit(revenue, payout.fee))
    _crash_point("fail_before_ledger")
    transaction_post(
        idempotency_key=payout.return_key,
        kind=JournalKind.PAYOUT_RETURN,
        entries=entries,
        memo="Payout returned to your wallet",
        causes={"payout": payout.pk},
    )
    _crash_point("fail_after_ledger")
    payout.status = PayoutStatus.FAILED
    payout.failed_at = timezone.now()
    payout.failure_code = code[:100]
    payout.failure_message = message[:500]
    payout.reversal_needed = bool(reverse_transfer and payout.stripe_transfer_id and not payout.stripe_reversal_id)
    payout.save(
        update_fields=["status", "failed_at", "failure_code", "failure_message", "reversal_needed", "updated_at"]
    )
    _history(payout, from_status=previous, reason=f"{code}: {message}", actor=actor, stripe_event_id=stripe_event_id)
    if payout.reversal_needed:
        from wallet.tasks import payout_transfer_reverse  # wallet.tasks imports this module: a cycle

        payout_id = payout.pk
        transaction.on_commit(lambda: payout_transfer_reverse.delay(payout_id))
    _announce_settled(payout)
    return payout


def _announce_settled(payout: Payout) -> None:
    """Tell later apps (notifications) how the payout ended, in the settling transaction: the fact is
    delivered after commit, so a message provider never touches the money. Once per payout and outcome
    (a paid payout that bounces later is told again, as failed)."""
    events.announce(
        "payout_settled",
        once_key=f"payout:{payout.pk}:{payout.status}",
        user_id=payout.user_id,
        payout_id=payout.pk,
        outcome=str(payout.status),
        amount_minor=payout.amount,
        currency=payout.currency,
        reason=payout.failure_message if payout.status == PayoutStatus.FAILED else "",
    )


def payout_ledger_transactions(*, payout: Payout) -> list[JournalTransaction]:
    """The ledger postings of a payout (request, settlement, return), oldest first."""
    keys = [payout.request_key, payout.paid_key, payout.return_key]
    return list(JournalTransaction.objects.filter(idempotency_key__in=keys).order_by("id"))


def stripe_timestamp(value: Any) -> datetime:
    """A Stripe ``created`` (unix seconds) as an aware datetime; now if missing."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return timezone.now()
