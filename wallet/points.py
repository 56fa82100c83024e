"""Points: a second kind of balance, in the ledger's own currency ``PTS`` (docs/ledger.md, "Points").

A programme that rewards with points instead of money gives them from its owner's issuance account
(``points_issuance``, owner ``merchant:<id>``: a brand owner or any merchant) to the member's
``points_available`` account, in one balanced ``points_award`` transaction keyed by the caller. The
issuance account may go negative: its balance is minus the points the owner has outstanding, the
owner's promise to honour them in its catalogue. Points are whole numbers and never become money: the
only way out is a catalogue item priced in points (``programmes.catalogue``), whose redemption holds
the points and posts them back to the owner's issuance account (``points_redeem``).

A member who closes their account forfeits their points (``points_forfeit``, run by the wallet's
eraser, ``wallet/privacy.py``): one ``points_forfeit`` transaction moves them to the platform's
``points_forfeited`` account (the breakage of points). Points are never paid out.

Apps above the wallet (programmes: tier rewards, rewards for actions, the catalogue) call these
functions; they never open points accounts themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from wallet.errors import InvalidAmountError
from wallet.models import POINTS, AccountKind, Entry, JournalKind, JournalTransaction, LedgerAccount
from wallet.services import account_get_or_create, platform_account, transaction_post, transfer

if TYPE_CHECKING:
    from accounts.models import User

# Far beyond any programme, far below a BIGINT: a typo of a few extra digits is refused.
MAX_POINTS_PER_AWARD = 10_000_000


def merchant_owner_key(merchant_id: int) -> str:
    """The ledger owner of a merchant's accounts (the wallet does not import merchants)."""
    return f"merchant:{merchant_id}"


def points_account(*, user: User) -> LedgerAccount:
    """The member's points account, opened on first use."""
    return account_get_or_create(kind=AccountKind.POINTS_AVAILABLE, currency=POINTS, user=user)


def points_issuance_account(*, merchant_id: int) -> LedgerAccount:
    """The programme owner's points issuance account (may go negative: points outstanding)."""
    return account_get_or_create(
        kind=AccountKind.POINTS_ISSUANCE, currency=POINTS, owner_key=merchant_owner_key(merchant_id)
    )


def points_award(
    *,
    user: User,
    points: int,
    merchant_id: int,
    idempotency_key: str,
    memo: str,
    causes: Mapping[str, str | int] | None = None,
) -> JournalTransaction:
    """Give ``points`` to the member, funded by the merchant's issuance account.

    Idempotent by ``idempotency_key`` (the caller derives it from what earned the points, e.g.
    ``actions:event:<id>``): a replay returns the first transaction and gives nothing more.
    Atomic on its own; inside a caller's ``transaction.atomic`` it joins it.
    """
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidAmountError(f"Points are a positive whole number, not {points!r}.")
    if points > MAX_POINTS_PER_AWARD:
        raise InvalidAmountError(f"At most {MAX_POINTS_PER_AWARD} points at a time.")
    return transaction_post(
        idempotency_key=idempotency_key,
        kind=JournalKind.POINTS_AWARD,
        entries=transfer(
            debit=points_issuance_account(merchant_id=merchant_id), credit=points_account(user=user), amount=points
        ),
        memo=memo[:255],
        causes=causes,
    )


def points_forfeited_account() -> LedgerAccount:
    """The platform's account of forfeited points (credit-normal, never negative)."""
    return platform_account(kind=AccountKind.POINTS_FORFEITED, currency=POINTS)


def points_forfeit(*, user: User, idempotency_key: str) -> JournalTransaction | None:
    """Move every spendable point of the member to the platform's ``points_forfeited`` account, in one
    balanced ``points_forfeit`` transaction keyed by the caller; None when there is nothing to forfeit.

    Precondition: inside the caller's ``transaction.atomic`` (the account closing's). The member's
    points account is locked first, so points awarded meanwhile wait and the amount read is the amount
    posted. A replay of the key returns the first transaction (nothing is forfeited twice)."""
    earlier = JournalTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        return earlier
    account = (
        LedgerAccount.objects.select_for_update()
        .filter(user=user, kind=AccountKind.POINTS_AVAILABLE, currency=POINTS)
        .first()
    )
    if account is None or account.available <= 0:
        return None
    return transaction_post(
        idempotency_key=idempotency_key,
        kind=JournalKind.POINTS_FORFEIT,
        entries=transfer(debit=account, credit=points_forfeited_account(), amount=account.available),
        memo="Points forfeited: account closed",
        causes={"user": user.pk},
    )


def points_balance(*, user: User) -> int:
    """The member's spendable points: posted points less those held by redemptions in progress.
    One query; 0 for a member who never had points."""
    row = (
        LedgerAccount.objects.filter(user=user, kind=AccountKind.POINTS_AVAILABLE, currency=POINTS)
        .values_list("balance", "pending_debits")
        .first()
    )
    return row[0] - row[1] if row else 0


def points_movements(*, user: User) -> QuerySet[Entry]:
    """The member's points movements, newest first, with their transactions."""
    return (
        Entry.objects.filter(account__user=user, account__kind=AccountKind.POINTS_AVAILABLE)
        .select_related("transaction")
        .order_by("-created_at", "-id")
    )
