"""Monthly statements (F-W4): per consumer, per currency, per calendar month.

What a statement covers: the consumer's own ledger accounts in that currency — *pending* (earned,
not yet available), *available* (can be paid out, donated or spent) and, when there is one, *owed*
(the consumer receivable: cashback reversed after it was already spent). For each account the
statement gives the opening balance (all posted entries before the month began), every movement
of the month (one line per journal transaction, with its effect on each account) and the closing
balance (opening plus the month's movements), and the same as a total over the accounts.

The figures are the ledger's posted entries; money reserved by a pending hold at checkout is not a
movement until it is captured. Months are calendar months in ``settings.TIME_ZONE``. Entries are
append-only and stamped when posted, so a month that is over never changes: its statement is
generated once (on request or by the monthly task) and stored (``Statement``, files under
``MEDIA_ROOT/statements/``); the current month is generated on every request.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Sum, When
from django.db.models.functions import TruncMonth
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from weasyprint import CSS, HTML

from cashback import events
from cashback.errors import DomainError
from cashback.formatting import format_money
from wallet.models import AccountKind, Currency, Direction, Entry, LedgerAccount, Statement
from wallet.money import minor_to_decimal_string

if TYPE_CHECKING:
    from accounts.models import User

# Column order on the statement.
COVERED_KINDS = (AccountKind.CONSUMER_AVAILABLE, AccountKind.CONSUMER_PENDING, AccountKind.CONSUMER_RECEIVABLE)
KIND_LABELS: dict[str, str] = {
    AccountKind.CONSUMER_AVAILABLE: "Available",
    AccountKind.CONSUMER_PENDING: "Pending",
    AccountKind.CONSUMER_RECEIVABLE: "Owed",
}
FORMATS = ("pdf", "csv")
CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


class StatementMonthInvalidError(DomainError):
    code = "statement_month_invalid"
    default_message = gettext_lazy("Give the month as YYYY-MM, e.g. 2026-10, and not a month in the future.")


class StatementCurrencyInvalidError(DomainError):
    code = "statement_currency_invalid"
    default_message = gettext_lazy("Unknown currency.")


class StatementFormatInvalidError(DomainError):
    code = "statement_format_invalid"
    default_message = gettext_lazy("The format is pdf or csv.")


@dataclass(frozen=True)
class Period:
    """One calendar month in the platform's time zone."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None, *, today: date | None = None) -> Period:
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", (text or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise StatementMonthInvalidError(fields={"month": [_("Give the month as YYYY-MM, e.g. 2026-10.")]})
        period = cls(int(match.group(1)), int(match.group(2)))
        if period > cls.current(today=today):
            raise StatementMonthInvalidError(fields={"month": [_("That month has not begun yet.")]})
        return period

    @classmethod
    def current(cls, *, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today.year, today.month)

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def __lt__(self, other: Period) -> bool:
        return (self.year, self.month) < (other.year, other.month)

    def __gt__(self, other: Period) -> bool:
        return (self.year, self.month) > (other.year, other.month)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def label(self) -> str:
        return self.first_day.strftime("%B %Y")

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), 12 if self.month == 1 else self.month - 1)

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime(self.year, self.month, 1), timezone.get_current_timezone())

    @property
    def end(self) -> datetime:
        """The first instant after the month (exclusive)."""
        return self.next().start

    def is_over(self, *, today: date | None = None) -> bool:
        return self < Period.current(today=today)


@dataclass(frozen=True)
class StatementLine:
    at: datetime
    transaction_id: int
    kind: str
    description: str
    amounts: dict[str, int]  # per account kind, signed (credit positive)
    balance_after: int  # total over the covered accounts after this line

    @property
    def total(self) -> int:
        return sum(self.amounts.values())


@dataclass
class StatementData:
    user: User
    currency: str
    period: Period
    opening: dict[str, int]
    lines: list[StatementLine]
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def closing(self) -> dict[str, int]:
        closing = dict(self.opening)
        for line in self.lines:
            for kind, amount in line.amounts.items():
                closing[kind] = closing.get(kind, 0) + amount
        return closing

    @property
    def opening_total(self) -> int:
        return sum(self.opening.values())

    @property
    def closing_total(self) -> int:
        return sum(self.closing.values())

    @property
    def money_in(self) -> int:
        """Sum of the lines that raised the total (earnings, returned payouts, ...)."""
        return sum(line.total for line in self.lines if line.total > 0)

    @property
    def money_out(self) -> int:
        """Sum of the lines that lowered the total, as a positive number (payouts, spending, ...)."""
        return -sum(line.total for line in self.lines if line.total < 0)

    @property
    def columns(self) -> list[str]:
        """The account kinds shown: available and pending always, owed only when it was ever used."""
        used = {kind for kind, amount in {**self.opening, **self.closing}.items() if amount}
        used |= {kind for line in self.lines for kind in line.amounts}
        return [kind for kind in COVERED_KINDS if kind in used or kind != AccountKind.CONSUMER_RECEIVABLE]

    def money(self, amount: int) -> str:
        return minor_to_decimal_string(amount, self.currency)


def _signed():
    return Case(When(direction=Direction.CREDIT, then=F("amount")), default=-F("amount"))


def _check_currency(currency: str | None) -> str:
    currency = (currency or "").strip().upper()
    if currency not in Currency.values:
        raise StatementCurrencyInvalidError(
            fields={"currency": [_("One of %(values)s.") % {"values": ", ".join(Currency.values)}]}
        )
    return currency


def statement_build(*, user: User, period: Period, currency: str | None) -> StatementData:
    """The statement's figures from the ledger (three queries, whatever the history's length)."""
    currency = _check_currency(currency)
    accounts = dict(
        LedgerAccount.objects.filter(user=user, currency=currency, kind__in=COVERED_KINDS).values_list("id", "kind")
    )
    opening: dict[str, int] = dict.fromkeys(COVERED_KINDS, 0)
    for row in (
        Entry.objects.filter(account_id__in=accounts, created_at__lt=period.start)
        .values("account_id")
        .annotate(total=Sum(_signed()))
        .order_by()
    ):
        opening[accounts[row["account_id"]]] += row["total"]

    lines: list[StatementLine] = []
    running = sum(opening.values())
    entries = (
        Entry.objects.filter(account_id__in=accounts, created_at__gte=period.start, created_at__lt=period.end)
        .select_related("transaction")
        .order_by("created_at", "id")
    )
    grouped: dict[int, tuple[Any, Any, dict[str, int]]] = {}
    for entry in entries:
        first_at, journal, amounts = grouped.setdefault(entry.transaction_id, (entry.created_at, entry.transaction, {}))
        kind = accounts[entry.account_id]
        amounts[kind] = amounts.get(kind, 0) + entry.signed_amount
    for first_at, journal, amounts in grouped.values():
        running += sum(amounts.values())
        description = journal.get_kind_display()
        if journal.memo:
            description = f"{description}: {journal.memo}"
        lines.append(
            StatementLine(
                at=first_at,
                transaction_id=journal.pk,
                kind=journal.kind,
                description=description,
                amounts=amounts,
                balance_after=running,
            )
        )
    return StatementData(user=user, currency=currency, period=period, opening=opening, lines=lines)


def statement_months(*, user: User) -> list[tuple[Period, str]]:
    """(month, currency) pairs in which the consumer's accounts moved, newest first."""
    rows = (
        Entry.objects.filter(account__user=user, account__kind__in=COVERED_KINDS)
        .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_current_timezone()))
        .values_list("month", "currency")
        .distinct()
        .order_by()
    )
    pairs = {
        (Period.of(timezone.localtime(month).date() if timezone.is_aware(month) else month), currency)
        for month, currency in rows
    }
    return sorted(pairs, key=lambda pair: (-(pair[0].year * 12 + pair[0].month), pair[1]))


def statement_consumers(*, period: Period) -> list[tuple[int, str]]:
    """(user id, currency) of every consumer whose accounts moved in ``period`` — the monthly task's list."""
    return list(
        Entry.objects.filter(
            account__user__isnull=False,
            account__kind__in=COVERED_KINDS,
            created_at__gte=period.start,
            created_at__lt=period.end,
        )
        .values_list("account__user_id", "currency")
        .distinct()
        .order_by("account__user_id", "currency")
    )


# --- Documents ---------------------------------------------------------------------------------


def statement_filename(statement: StatementData, fmt: str) -> str:
    return f"statement-{statement.period.key}-{statement.currency}.{fmt}"


def statement_csv(statement: StatementData) -> bytes:
    """One row per movement between an opening and a closing row; amounts as decimal strings."""
    columns = statement.columns
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([settings.PLATFORM_NAME, f"Statement {statement.period.key}", statement.currency])
    writer.writerow(["date", "description", *[KIND_LABELS[kind].lower() for kind in columns], "total", "balance"])
    writer.writerow(
        [
            statement.period.start.date().isoformat(),
            "Opening balance",
            *[statement.money(statement.opening[kind]) for kind in columns],
            "",
            statement.money(statement.opening_total),
        ]
    )
    for line in statement.lines:
        writer.writerow(
            [
                timezone.localtime(line.at).isoformat(timespec="seconds"),
                line.description,
                *[statement.money(line.amounts[kind]) if kind in line.amounts else "" for kind in columns],
                statement.money(line.total),
                statement.money(line.balance_after),
            ]
        )
    last_day = (statement.period.end - timedelta(days=1)).date()
    writer.writerow(
        [
            last_day.isoformat(),
            "Closing balance",
            *[statement.money(statement.closing[kind]) for kind in columns],
            "",
            statement.money(statement.closing_total),
        ]
    )
    return out.getvalue().encode("utf-8")


def statement_pdf(statement: StatementData) -> bytes:
    """The statement as a PDF in the house style (WeasyPrint)."""
    columns = statement.columns

    def written(amount: int) -> str:  # for people, in the reader's language; the CSV keeps plain decimals
        return format_money(amount, statement.currency)

    html = render_to_string(
        "wallet/statement_pdf.html",
        {
            "statement": statement,
            "platform_name": settings.PLATFORM_NAME,
            "site_url": settings.SITE_URL,
            "time_zone": settings.TIME_ZONE,
            "columns": [(kind, KIND_LABELS[kind]) for kind in columns],
            "opening": [written(statement.opening[kind]) for kind in columns],
            "closing": [written(statement.closing[kind]) for kind in columns],
            "rows": [
                {
                    "line": line,
                    "cells": [written(line.amounts[kind]) if kind in line.amounts else "" for kind in columns],
                    "total": written(line.total),
                    "balance": written(line.balance_after),
                }
                for line in statement.lines
            ],
            "last_day": (statement.period.end - timedelta(days=1)).date(),
        },
    )
    stylesheet = CSS(filename=finders.find("css/statement.css"))
    # No base_url: the statement uses no other files, so WeasyPrint fetches nothing.
    return HTML(string=html).write_pdf(stylesheets=[stylesheet])


def _render(statement: StatementData, fmt: str) -> bytes:
    return statement_pdf(statement) if fmt == "pdf" else statement_csv(statement)


def statement_store(*, user: User, period: Period, currency: str) -> Statement:
    """Generate a month's statement once and keep its files; a second call returns the stored one.

    Precondition: the month is over (its entries can no longer change).
    """
    currency = _check_currency(currency)
    existing = Statement.objects.filter(user=user, currency=currency, period=period.first_day).first()
    if existing is not None:
        return existing
    data = statement_build(user=user, period=period, currency=currency)
    statement = Statement(
        user=user,
        currency=currency,
        period=period.first_day,
        opening_minor=data.opening_total,
        closing_minor=data.closing_total,
        movements=len(data.lines),
    )
    statement.pdf.save(statement_filename(data, "pdf"), ContentFile(statement_pdf(data)), save=False)
    statement.csv.save(statement_filename(data, "csv"), ContentFile(statement_csv(data)), save=False)
    try:
        with transaction.atomic():
            statement.save()
    except IntegrityError:
        # Generated twice at once: the other copy won; our files are left for the sweep of orphans.
        return Statement.objects.get(user=user, currency=currency, period=period.first_day)
    return statement


def statement_document(
    *, user: User, month: str | None, currency: str | None, fmt: str | None
) -> tuple[bytes, str, str]:
    """(content, filename, content type) of a statement, for the web wallet and the API.

    A month that is over comes from the stored statement (generated now if it was not yet); the
    current month is generated afresh.
    """
    fmt = (fmt or "pdf").strip().lower()
    if fmt not in FORMATS:
        raise StatementFormatInvalidError(fields={"format": [_("pdf or csv.")]})
    period = Period.parse(month)
    currency = _check_currency(currency)
    if period.is_over():
        stored = statement_store(user=user, period=period, currency=currency)
        file = stored.pdf if fmt == "pdf" else stored.csv
        with file.open("rb") as handle:
            content = handle.read()
    else:
        content = _render(statement_build(user=user, period=period, currency=currency), fmt)
    return content, f"statement-{period.key}-{currency}.{fmt}", CONTENT_TYPES[fmt]


def statement_publish(*, user_id: int, period: Period, currency: str) -> Statement:
    """Store a finished month's statement and announce ``statement_published`` (once per statement;
    notifications tells the consumer it is ready)."""
    user = get_user_model().objects.get(pk=user_id)
    statement = statement_store(user=user, period=period, currency=currency)
    # Not in statement_store's transaction: a download may have stored the month already, and only
    # publishing tells the person. A crash between the two is mended by the task's retry (once_key).
    with transaction.atomic():
        events.announce(
            "statement_published",
            once_key=f"statement:{statement.pk}",
            user_id=user.pk,
            statement_id=statement.pk,
            period=period.key,
            period_label=period.label,
            currency=statement.currency,
            opening_minor=statement.opening_minor,
            closing_minor=statement.closing_minor,
        )
    return statement
