"""Donations from a consumer's available balance: once (an amount or everything) or automatically,
a chosen share of every reward as it matures (the ``reward_available`` subscriber).

Every movement of money is a ledger transaction (``wallet.services``) with an idempotency key
derived from its cause; nothing here stores an amount given a second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from django.db import transaction
from django.utils.translation import gettext

from accounts.blocking import ensure_not_blocked
from cashback import events
from cashback.keyed_ids import external_key
from charity.errors import (
    CharityInactiveError,
    CharityNotFoundError,
    InvalidSharePercentError,
    NothingToDonateError,
)
from charity.models import AutoDonateSetting, Charity
from charity.services.payable_accounts import charity_payable_account_open
from wallet.errors import InsufficientFundsError, InvalidAmountError, InvalidLedgerRequestError, UnknownCurrencyError
from wallet.models import AccountKind, Currency, JournalKind, JournalTransaction, LedgerAccount
from wallet.money import minor_to_decimal_string
from wallet.services import retrying_deadlocks, transaction_post_with_created, transfer

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


MAX_CLIENT_KEY_LENGTH = 100
MAX_ID = 2**63 - 1


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


def donation_journal_key(*, user: User, idempotency_key: str) -> str:
    """The ledger key of the donation the person (or their app) keyed ``idempotency_key``.

    The client's key is their own text, so the ledger holds its keyed hash
    (``donation:<user id>:<hash>``, cashback/keyed_ids.py). A donation made before the hash was
    introduced kept the key as sent; a replay of it finds that journal, so it is never given twice.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_CLIENT_KEY_LENGTH:
        raise InvalidLedgerRequestError(
            gettext("Give an idempotency key of 1 to %(max)s characters.") % {"max": MAX_CLIENT_KEY_LENGTH}
        )
    verbatim = f"donation:{user.pk}:{key}"
    if JournalTransaction.objects.filter(idempotency_key=verbatim).exists():
        return verbatim
    return f"donation:{user.pk}:{external_key(namespace='donation', value=key)}"


def _available_account(user: User, currency: str) -> LedgerAccount | None:
    if currency not in Currency.values:
        raise UnknownCurrencyError(
            gettext("Unknown currency: %(currency)s.") % {"currency": repr(currency)},
            fields={"currency": [gettext("Unknown currency.")]},
        )
    return LedgerAccount.objects.filter(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency).first()


def _donation_post(
    *, user: User, charity: Charity, account: LedgerAccount, amount_minor: int, key: str, reward_id: int | None = None
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


@retrying_deadlocks  # the post runs in our own atomic block, so the retry wraps the whole donation
def donation_give(
    *, user: User, charity_id: int, currency: str, amount_minor: int | None, idempotency_key: str
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
    ensure_not_blocked(user=user)  # AccountBlockedError (403): a blocked person cannot donate
    charity = _active_charity(charity_id)
    key = donation_journal_key(user=user, idempotency_key=idempotency_key)
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
            raise InvalidAmountError(
                gettext("Give a positive amount."), fields={"amount": [gettext("Give a positive amount.")]}
            )
        account = _available_account(user, currency)
    if account is None:
        _refuse_insufficient(available=0, currency=currency)
    try:
        # One transaction with the post: a refused donation does not leave the payable account opened.
        with transaction.atomic():
            journal, created = _donation_post(
                user=user, charity=charity, account=account, amount_minor=amount_minor, key=key
            )
            if created:
                events.announce(
                    "donation_made",
                    user_id=user.pk,
                    charity_id=charity.pk,
                    charity_name=charity.name,
                    journal_id=journal.pk,
                    amount_minor=amount_minor,
                    currency=currency,
                )
    except InsufficientFundsError:
        account.refresh_from_db(fields=["balance", "pending_debits"])
        _refuse_insufficient(available=max(account.available, 0), currency=currency)
    return DonationOutcome(journal=journal, created=created)


def _refuse_insufficient(*, available: int, currency: str) -> NoReturn:
    message = f"You have {minor_to_decimal_string(available, currency)} {currency} available to donate."
    raise InsufficientFundsError(message, fields={"amount": [message]})


def donation_make(
    *, user: User, charity_id: int, amount_minor: int, currency: str, idempotency_key: str
) -> JournalTransaction:
    """Give ``amount_minor`` of the consumer's available balance in ``currency`` to an active charity.

    ``donation_give`` with an amount: a replay returns the first donation, the same key with another
    amount is ``idempotency_conflict`` (409), more than is available ``insufficient_funds`` (409).
    """
    return donation_give(
        user=user, charity_id=charity_id, currency=currency, amount_minor=amount_minor, idempotency_key=idempotency_key
    ).journal


def donation_make_all(*, user: User, charity_id: int, currency: str, idempotency_key: str) -> JournalTransaction:
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


def auto_donate_set(*, user: User, charity_id: int | None, share_percent: int) -> AutoDonateSetting | None:
    """Set the share (0 to 100 %) of every future reward that goes to a charity; 0 turns it off.

    With a share above 0 the charity must exist and be active. Returns the setting, or None when
    it is off and no charity was chosen.
    """
    share = _validate_share(share_percent)
    if charity_id is None:
        if share:
            raise CharityNotFoundError(gettext("Choose a charity."), fields={"charity": [gettext("Choose a charity.")]})
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

    Runs after the maturity committed, in a task of its own (``cashback.events``: one
    ``fact_deliver`` per subscriber), so it cannot roll back or block the maturity; an error is
    recorded on the delivery and retried by the outbox. It may run more than once: a replayed
    fact finds its key and does nothing (even if the setting changed since). No setting, a share
    of 0, an inactive charity, a share that rounds to 0 or money no longer available (spent or
    held since the reward matured) give nothing; that is a decision, not a failure to retry. The
    ledger post runs in its own savepoint, so a refused post leaves nothing behind.
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
