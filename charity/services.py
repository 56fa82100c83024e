"""Writes of the charity app: charities, donations, auto-donate, monthly disbursements.

Every movement of money is a ledger transaction (``wallet.services.transaction_post``) with an
idempotency key derived from its cause; nothing here stores an amount given a second time.
docs/charity.md describes the flows.
"""

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from cashback.errors import DomainError
from cashback.organisation_numbers import validate_organisation_number
from cashback.providers.stripe_gateway import StripeGatewayError, get_stripe_gateway
from charity import selectors
from charity.errors import (
    CharityInactiveError,
    CharityNotFoundError,
    DisbursementNotPossibleError,
    DuplicateCharityError,
    InvalidCharityError,
    InvalidSharePercentError,
    NothingToDonateError,
)
from charity.models import AutoDonateSetting, Charity, Disbursement, ImpactCost
from wallet.errors import InsufficientFundsError, InvalidAmountError, InvalidLedgerRequestError, UnknownCurrencyError
from wallet.models import AccountKind, Currency, JournalKind, JournalTransaction, LedgerAccount
from wallet.money import minor_to_decimal_string
from wallet.services import (
    account_get_or_create,
    platform_account,
    transaction_post,
    transaction_post_with_created,
    transfer,
)

logger = logging.getLogger(__name__)

MAX_CLIENT_KEY_LENGTH = 100
MAX_ID = 2**63 - 1
_STRIPE_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{4,60}")
_CHARITY_FIELDS = (
    "name",
    "slug",
    "country",
    "organisation_number",
    "cause",
    "description",
    "logo_path",
    "website",
    "impact_unit",
    "impact_unit_plural",
    "is_active",
    "stripe_account_id",
)


# --- Charities (staff) ----------------------------------------------------------------------


def _clean_charity_fields(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    for name in ("name", "cause", "impact_unit", "impact_unit_plural"):
        cleaned[name] = (cleaned.get(name) or "").strip()
        if not cleaned[name]:
            errors.setdefault(name, []).append("This field is required.")
    cleaned["slug"] = slugify(cleaned.get("slug") or cleaned.get("name") or "")[:80]
    if not cleaned["slug"]:
        errors.setdefault("slug", []).append("Give a slug (letters, digits and dashes).")
    try:
        # The same rules as merchants' organisation numbers (Norway, Sweden, Denmark, Finland).
        cleaned["organisation_number"] = validate_organisation_number(
            cleaned.get("organisation_number") or "", country=cleaned.get("country") or ""
        )
    except DomainError as error:
        for name, messages in (error.fields or {"organisation_number": [error.message]}).items():
            errors.setdefault(name, []).extend(messages)
    cleaned["stripe_account_id"] = (cleaned.get("stripe_account_id") or "").strip()
    if cleaned["stripe_account_id"] and not _STRIPE_ACCOUNT.fullmatch(cleaned["stripe_account_id"]):
        errors.setdefault("stripe_account_id", []).append("A Stripe account id looks like acct_1AbC….")
    cleaned["logo_path"] = (cleaned.get("logo_path") or "").strip().lstrip("/")
    if ".." in cleaned["logo_path"]:
        errors.setdefault("logo_path", []).append("Give a path under the static files, e.g. charity/logos/x.svg.")
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidCharityError(first, fields=errors)
    return cleaned


def _clean_costs(impact_costs: Mapping[str, int | None]) -> dict[str, int | None]:
    cleaned: dict[str, int | None] = {}
    for currency, cost in impact_costs.items():
        if currency not in Currency.values:
            raise UnknownCurrencyError(f"Unknown currency: {currency!r}.")
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int) or cost <= 0):
            message = "A unit cost is a positive amount."
            raise InvalidCharityError(message, fields={f"cost_{currency}": [message]})
        cleaned[currency] = cost
    return cleaned


def _save_costs(charity: Charity, costs: Mapping[str, int | None]) -> None:
    for currency, cost in costs.items():
        if cost is None:
            ImpactCost.objects.filter(charity=charity, currency=currency).delete()
        else:
            ImpactCost.objects.update_or_create(charity=charity, currency=currency, defaults={"unit_cost_minor": cost})


def charity_create(*, impact_costs: Mapping[str, int | None] | None = None, **values: Any) -> Charity:
    """Add a partner charity. ``impact_costs`` maps currency → minor units per impact unit.

    Raises ``InvalidCharityError`` (with fields), ``DuplicateCharityError``.
    """
    unknown = set(values) - set(_CHARITY_FIELDS)
    if unknown:
        raise InvalidCharityError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    cleaned = _clean_charity_fields(values)
    costs = _clean_costs(impact_costs or {})
    try:
        with transaction.atomic():
            charity = Charity.objects.create(**cleaned)
            _save_costs(charity, costs)
    except IntegrityError as error:
        raise DuplicateCharityError() from error
    return charity


def charity_update(*, charity_id: int, impact_costs: Mapping[str, int | None] | None = None, **values: Any) -> Charity:
    """Change a charity's details (any subset of fields) and unit costs (``None`` removes a currency's cost)."""
    unknown = set(values) - set(_CHARITY_FIELDS)
    if unknown:
        raise InvalidCharityError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    try:
        with transaction.atomic():
            charity = Charity.objects.select_for_update().get(pk=charity_id)
            current = {name: getattr(charity, name) for name in _CHARITY_FIELDS}
            cleaned = _clean_charity_fields({**current, **values})
            for name, value in cleaned.items():
                setattr(charity, name, value)
            charity.save()
            _save_costs(charity, _clean_costs(impact_costs or {}))
    except Charity.DoesNotExist:
        raise CharityNotFoundError() from None
    except IntegrityError as error:
        raise DuplicateCharityError() from error
    return charity


# --- Payable accounts ------------------------------------------------------------------------


def charity_payable_account_open(*, charity_id: int, currency: str) -> LedgerAccount:
    """The ledger account holding what is owed to the charity in ``currency``, opened on first use.

    Used by donations here and by charity-reward offers (campaigns), which credit it from the
    merchant's funding with the consumer in ``causes``. Raises ``CharityNotFoundError`` for an
    unknown charity (and opens nothing); an inactive charity still has its account (rewards
    promised by a live offer are still owed to it). ``charity.selectors.charity_payable_account``
    reads it without opening it.
    """
    if not Charity.objects.filter(pk=charity_id).exists():
        raise CharityNotFoundError()
    return account_get_or_create(
        kind=AccountKind.CHARITY_PAYABLE, currency=currency, owner_key=selectors.charity_owner_key(charity_id)
    )


# --- Donations --------------------------------------------------------------------------------


def _charity_id(value: Any) -> int:
    """A charity id as sent by a client: an int or a string of digits (not 1.5, not true)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    if isinstance(value, str) and value.strip().isdigit() and 0 < int(value.strip()) <= MAX_ID:
        return int(value.strip())
    raise CharityNotFoundError(fields={"charity": [CharityNotFoundError.default_message]})


def _any_charity(charity_id: Any) -> Charity:
    charity = Charity.objects.filter(pk=_charity_id(charity_id)).first()
    if charity is None:
        raise CharityNotFoundError(fields={"charity": [CharityNotFoundError.default_message]})
    return charity


def _active_charity(charity_id: Any) -> Charity:
    charity = _any_charity(charity_id)
    if not charity.is_active:
        raise CharityInactiveError(fields={"charity": [CharityInactiveError.default_message]})
    return charity


def _journal_key(user: Any, idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_CLIENT_KEY_LENGTH:
        raise InvalidLedgerRequestError(f"Give an idempotency key of 1 to {MAX_CLIENT_KEY_LENGTH} characters.")
    return f"donation:{user.pk}:{key}"


def _available_account(user: Any, currency: str) -> LedgerAccount | None:
    if currency not in Currency.values:
        raise UnknownCurrencyError(f"Unknown currency: {currency!r}.", fields={"currency": ["Unknown currency."]})
    return LedgerAccount.objects.filter(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency).first()


def _donation_post(
    *, user: Any, charity: Charity, account: LedgerAccount, amount_minor: int, key: str, reward_id: int | None = None
) -> tuple[JournalTransaction, bool]:
    """Post the donation; returns it and whether this call made it (False for a replayed key)."""
    causes: dict[str, str | int] = {"user": user.pk, "charity": charity.pk}
    if reward_id is not None:
        causes["reward"] = int(reward_id)
    payable = charity_payable_account_open(charity_id=charity.pk, currency=account.currency)
    memo = f"Automatic share to {charity.name}" if reward_id is not None else f"Donation to {charity.name}"
    return transaction_post_with_created(
        idempotency_key=key,
        kind=JournalKind.DONATION,
        entries=transfer(debit=account, credit=payable, amount=amount_minor),
        memo=memo[:255],
        causes=causes,
    )


@dataclass(frozen=True)
class DonationOutcome:
    """A donation and whether this call made it (False when the key was a replay)."""

    journal: JournalTransaction
    created: bool


def donation_give(
    *, user: Any, charity_id: int, currency: str, amount_minor: int | None, idempotency_key: str
) -> DonationOutcome:
    """Give ``amount_minor`` (or, with None, the whole available balance) in ``currency`` to an active charity.

    The doors' entry point (the API and the donate page parse what the person typed, then call
    this with typed values). One ledger transaction (consumer available → charity payable, kind
    ``donation``) under the key ``donation:<user id>:<idempotency_key>``. The ledger's idempotency
    decides a replay: the same key and amount returns the first donation with ``created=False``,
    also while a first call is still in flight; the same key with another amount is
    ``idempotency_conflict`` (409). Refuses an unknown or inactive charity, a non-positive amount,
    and more than is available (``insufficient_funds``, 409: the ledger's overdraft rule decides,
    so a race cannot overdraw). A refusal changes nothing.

    "Everything" is fixed by the first call: a replay of the key returns the first donation even if
    the balance has changed since (found by its key before the amount is read).
    """
    charity = _active_charity(charity_id)
    key = _journal_key(user, idempotency_key)
    if amount_minor is None:
        existing = JournalTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return DonationOutcome(journal=existing, created=False)
        account = _available_account(user, currency)
        if account is None or account.available <= 0:
            raise NothingToDonateError(fields={"amount": [NothingToDonateError.default_message]})
        amount_minor = account.available
    else:
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
            raise InvalidAmountError("Give a positive amount.", fields={"amount": ["Give a positive amount."]})
        account = _available_account(user, currency)
    if account is None:
        _refuse_insufficient(available=0, currency=currency)
    try:
        # One transaction with the post: a refused donation does not leave the payable account opened.
        with transaction.atomic():
            journal, created = _donation_post(
                user=user, charity=charity, account=account, amount_minor=amount_minor, key=key
            )
    except InsufficientFundsError:
        account.refresh_from_db(fields=["balance", "pending_debits"])
        _refuse_insufficient(available=max(account.available, 0), currency=currency)
    return DonationOutcome(journal=journal, created=created)


def _refuse_insufficient(*, available: int, currency: str) -> NoReturn:
    message = f"You have {minor_to_decimal_string(available, currency)} {currency} available to donate."
    raise InsufficientFundsError(message, fields={"amount": [message]})


def donation_make(
    *, user: Any, charity_id: int, amount_minor: int, currency: str, idempotency_key: str
) -> JournalTransaction:
    """Give ``amount_minor`` of the consumer's available balance in ``currency`` to an active charity.

    ``donation_give`` with an amount: a replay returns the first donation, the same key with another
    amount is ``idempotency_conflict`` (409), more than is available ``insufficient_funds`` (409).
    """
    return donation_give(
        user=user, charity_id=charity_id, currency=currency, amount_minor=amount_minor, idempotency_key=idempotency_key
    ).journal


def donation_make_all(*, user: Any, charity_id: int, currency: str, idempotency_key: str) -> JournalTransaction:
    """Give the whole available balance in ``currency`` in one step (same rules as ``donation_make``).

    A replay of the key returns the first donation even if the balance has changed since.
    """
    return donation_give(
        user=user, charity_id=charity_id, currency=currency, amount_minor=None, idempotency_key=idempotency_key
    ).journal


# --- Auto-donate ------------------------------------------------------------------------------


def _validate_share(share_percent: Any) -> int:
    if isinstance(share_percent, bool) or not isinstance(share_percent, int) or not 0 <= share_percent <= 100:
        message = InvalidSharePercentError.default_message
        raise InvalidSharePercentError(message, fields={"share_percent": [message]})
    return share_percent


def auto_donate_set(*, user: Any, charity_id: int | None, share_percent: int) -> AutoDonateSetting | None:
    """Set the share (0 to 100 %) of every future reward that goes to a charity; 0 turns it off.

    With a share above 0 the charity must exist and be active. Returns the setting, or None when
    it is off and no charity was chosen.
    """
    share = _validate_share(share_percent)
    if charity_id is None:
        if share:
            raise CharityNotFoundError("Choose a charity.", fields={"charity": ["Choose a charity."]})
        AutoDonateSetting.objects.filter(user=user).delete()
        return None
    charity = _active_charity(charity_id) if share else _any_charity(charity_id)
    setting, _ = AutoDonateSetting.objects.update_or_create(
        user=user, defaults={"charity": charity, "share_percent": share}
    )
    return setting


def share_of(amount_minor: int, share_percent: int) -> int:
    """``share_percent`` % of an amount in minor units, rounded half to even (banker's rounding)."""
    quotient, remainder = divmod(amount_minor * share_percent, 100)
    if remainder * 2 > 100 or (remainder * 2 == 100 and quotient % 2 == 1):
        quotient += 1
    return quotient


def auto_donation_key(reward_id: int) -> str:
    return f"autodonate:reward:{int(reward_id)}"


def auto_donate_on_reward_available(
    *, reward_id: int, user_id: int, purchase_id: int, amount_minor: int, currency: str, **_: Any
) -> JournalTransaction | None:
    """Subscriber of ``reward_available``: give the consumer's chosen share of the matured reward.

    Runs in the announcer's transaction, so it must never fail the maturity: a replayed fact
    finds its key and does nothing (even if the setting changed since); no setting, a share of 0,
    an inactive charity, a share that rounds to 0 or money no longer available (held since) give
    nothing. The ledger post runs in its own savepoint.
    """
    key = auto_donation_key(reward_id)
    existing = JournalTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    setting = AutoDonateSetting.objects.select_related("charity", "user").filter(user_id=user_id).first()
    if setting is None or not setting.share_percent or not setting.charity.is_active:
        return None
    amount = share_of(int(amount_minor), setting.share_percent)
    if amount <= 0:
        return None
    account = LedgerAccount.objects.filter(
        user_id=user_id, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency
    ).first()
    if account is None:
        return None
    try:
        with transaction.atomic():
            journal, _created = _donation_post(
                user=setting.user,
                charity=setting.charity,
                account=account,
                amount_minor=amount,
                key=key,
                reward_id=reward_id,
            )
            return journal
    except InsufficientFundsError:
        logger.warning("Auto-donation for reward %s skipped: the balance is no longer available.", reward_id)
        return None


# --- Monthly disbursement -----------------------------------------------------------------------


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
        raise DisbursementNotPossibleError("A paid disbursement needs its Stripe transfer id.")
    with transaction.atomic():
        disbursement = Disbursement.objects.select_for_update().select_related("charity").get(pk=disbursement_id)
        if disbursement.status == Disbursement.Status.PAID:
            return disbursement
        if disbursement.status != Disbursement.Status.PROCESSING:
            raise DisbursementNotPossibleError(f"Disbursement {disbursement.pk} is {disbursement.status}.")
        transaction_post(
            idempotency_key=f"{disbursement.idempotency_key}:settle",
            kind=JournalKind.DONATION_DISBURSEMENT,
            entries=transfer(
                debit=platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=disbursement.currency),
                credit=platform_account(kind=AccountKind.SETTLEMENT, currency=disbursement.currency),
                amount=disbursement.amount_minor,
            ),
            memo=f"Transfer {transfer_id} to {disbursement.charity.name}"[:255],
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
            raise DisbursementNotPossibleError(f"Disbursement {disbursement.pk} is {disbursement.status}.")
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
