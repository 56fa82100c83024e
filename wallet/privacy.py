"""The person's ledger history, payouts, spend codes and statements, for "download my data", and
what closing the account needs from the wallet (F-A5, docs/privacy.md).

Closing is blocked while money is the person's: an available balance (pay it out or give it away
first), a payout under way, or money reserved at a checkout. Points do not block it: they are never
money, so the person is told they are forfeited (a notice they must acknowledge), and the erasure
forfeits them in one keyed ledger transaction (``wallet.points.points_forfeit``). Otherwise the ledger
is not touched by the erasure: its accounts stay with the anonymised shell, so every balance and
``ledger_check`` hold.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from accounts.models import User
from accounts.privacy_registry import (
    Eraser,
    ErasureBlocker,
    ErasureNotice,
    ExportSection,
    Row,
    eraser_register,
    not_exported_register,
    section_register,
    settle_option_register,
)
from cashback.formatting import format_number
from wallet.models import (
    CONSUMER_KINDS,
    AccountKind,
    Direction,
    Entry,
    Hold,
    Payout,
    PayoutAccount,
    PayoutStatus,
    SpendCode,
    Statement,
)
from wallet.money import minor_to_decimal_string
from wallet.payouts import payout_minimum
from wallet.points import points_balance, points_forfeit

POINTS_FORFEITED = "points_forfeited"


def points_forfeit_key(user_id: int) -> str:
    return f"points:forfeit:account-closed:{user_id}"


OPEN_PAYOUT_STATUSES = (PayoutStatus.REQUESTED, PayoutStatus.HELD, PayoutStatus.PROCESSING)


def _ledger(user: User) -> list[Row]:
    entries = (
        Entry.objects.filter(account__user=user, account__kind__in=CONSUMER_KINDS)
        .select_related("account", "transaction")
        .order_by("created_at", "id")
    )
    return [
        {
            "entry_id": entry.pk,
            "at": entry.created_at,
            "account": entry.account.kind,
            "kind": entry.transaction.kind,
            "memo": entry.transaction.memo,
            "amount": minor_to_decimal_string(entry.signed_amount, entry.currency),
            "currency": entry.currency,
            "transaction_id": entry.transaction_id,
        }
        for entry in entries
    ]


def _payouts(user: User) -> list[Row]:
    return [
        {
            "payout_id": payout.pk,
            "requested_at": payout.created_at,
            "amount": minor_to_decimal_string(payout.amount, payout.currency),
            "currency": payout.currency,
            "status": payout.status,
            "paid_at": payout.paid_at,
            "failed_at": payout.failed_at,
            "failure_message": payout.failure_message,
        }
        for payout in Payout.objects.filter(user=user).order_by("created_at", "id")
    ]


def _payout_account(user: User) -> list[Row]:
    return [
        {
            "stripe_account_id": account.stripe_account_id,
            "payouts_enabled": account.payouts_enabled,
            "details_submitted": account.details_submitted,
            "created_at": account.created_at,
        }
        for account in PayoutAccount.objects.filter(user=user)
    ]


def _spend_codes(user: User) -> list[Row]:
    return [
        {
            "created_at": code.created_at,
            "currency": code.currency,
            "status": code.status,
            "expires_at": code.expires_at,
            "used_at": code.used_at,
            "requested_amount_minor": code.requested_amount,
        }
        for code in SpendCode.objects.filter(user=user).order_by("created_at", "id")
    ]


def _statements(user: User) -> list[Row]:
    return [
        {
            "period": statement.period,
            "currency": statement.currency,
            "opening": minor_to_decimal_string(statement.opening_minor, statement.currency),
            "closing": minor_to_decimal_string(statement.closing_minor, statement.currency),
            "movements": statement.movements,
        }
        for statement in Statement.objects.filter(user=user).order_by("period", "currency")
    ]


def _blockers(user: User) -> list[ErasureBlocker]:
    blockers = []
    accounts = list(user.ledger_accounts.filter(kind=AccountKind.CONSUMER_AVAILABLE, balance__gt=0))
    if accounts:
        left = ", ".join(f"{minor_to_decimal_string(a.balance, a.currency)} {a.currency}" for a in accounts)
        blockers.append(
            ErasureBlocker(
                code="balance_not_zero",
                message=f"You still have {left} of cashback. Pay it out or give it to a charity first.",
            )
        )
    if Payout.objects.filter(user=user, status__in=OPEN_PAYOUT_STATUSES).exists():
        blockers.append(
            ErasureBlocker(
                code="payout_in_progress",
                message="A payout to your bank account is still under way. Close your account once it is paid.",
                actions=(("wallet:payouts", "See your payouts"),),
            )
        )
    if Hold.objects.filter(account__user=user, status=Hold.Status.PENDING).exists():
        blockers.append(
            ErasureBlocker(
                code="spend_in_progress",
                message="Some of your cashback is reserved at a shop's checkout. Try again once the purchase is done.",
            )
        )
    return blockers


def _notices(user: User) -> list[ErasureNotice]:
    points = points_balance(user=user)
    if points <= 0:
        return []
    message = ngettext(
        "You have %(points)s point. It is forfeited when you close your account: "
        "points are never money and cannot be paid out.",
        "You have %(points)s points. They are forfeited when you close your account: "
        "points are never money and cannot be paid out.",
        points,
    ) % {"points": format_number(points)}
    return [ErasureNotice(code=POINTS_FORFEITED, message=message)]


def _payout_option(user: User) -> list[tuple[str, str]]:
    account = PayoutAccount.objects.filter(user=user).first()
    if account is None or not account.is_ready:
        return []
    balances = user.ledger_accounts.filter(kind=AccountKind.CONSUMER_AVAILABLE, balance__gt=0)
    if any(a.available >= payout_minimum(a.currency) for a in balances):
        return [("wallet:payouts", "Pay it out to your bank account")]
    return []


def _erase(user: User) -> dict[str, int]:
    """Forfeit the person's points, cancel live spend codes and delete stored statements (their PDFs carry
    the person's name). Payouts and the payout account stay: they are the record of money paid to a bank
    account."""
    now = timezone.now()
    forfeited = points_forfeit(user=user, idempotency_key=points_forfeit_key(user.pk))
    points = (
        sum(entry.amount for entry in forfeited.entries.all() if entry.direction == Direction.DEBIT) if forfeited else 0
    )
    codes = SpendCode.objects.filter(user=user, status=SpendCode.Status.ACTIVE).update(
        status=SpendCode.Status.CANCELLED, updated_at=now
    )
    statements = list(Statement.objects.filter(user=user))
    names = [name for statement in statements for name in (statement.pdf.name, statement.csv.name) if name is not None]
    storage = Statement._meta.get_field("pdf").storage

    def delete_files() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete_files)
    Statement.objects.filter(pk__in=[statement.pk for statement in statements]).delete()
    return {"spend_codes_cancelled": codes, "statements_removed": len(statements), "points_forfeited": points}


def register() -> None:
    for order, (name, title, description, rows, covers) in enumerate(
        [
            (
                "ledger",
                "Wallet history",
                "Every movement of your pending, available and owed cashback (the ledger entries), signed.",
                _ledger,
                ("wallet.LedgerAccount.user",),
            ),
            ("payouts", "Payouts", "Payouts to your bank account and their state.", _payouts, ("wallet.Payout.user",)),
            (
                "payout_account",
                "Payout account",
                "The Stripe account that receives your payouts.",
                _payout_account,
                ("wallet.PayoutAccount.user",),
            ),
            (
                "spend_codes",
                "Spend codes",
                "Codes you made to pay with cashback at a checkout (never reusable).",
                _spend_codes,
                ("wallet.SpendCode.user",),
            ),
            (
                "statements",
                "Statements",
                "Your monthly statements' totals (the PDF and CSV files are on the statements page).",
                _statements,
                ("wallet.Statement.user",),
            ),
        ]
    ):
        section_register(
            ExportSection(name=name, title=title, description=description, rows=rows, covers=covers, order=30 + order)
        )
    not_exported_register(
        fields=("wallet.Payout.reviewed_by", "wallet.PayoutStatusChange.actor"),
        reason="The staff member who reviewed a payout: staff acting, not the consumer's data.",
    )
    not_exported_register(
        fields=("wallet.Adjustment.proposed_by", "wallet.Adjustment.decided_by"),
        reason="The staff members who proposed and decided a manual adjustment: staff acting, not the person's data.",
    )
    eraser_register(Eraser(name="wallet", erase=_erase, blockers=_blockers, notices=_notices, order=30))
    settle_option_register(blocker_code="balance_not_zero", options=_payout_option)
