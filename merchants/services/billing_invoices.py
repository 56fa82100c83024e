"""The monthly statement (F-M3): a month's figures become an invoice row, its lines and ledger entries.

Run once per merchant, currency and month by ``merchants.tasks.invoices_monthly`` on the 1st. Safe
to run twice and concurrently: the merchant's row lock serialises the runs, the unique
(merchant, currency, period) row is found by the second, and every ledger post has a key of its own
(``invoice:<merchant>:<currency>:<yyyy-mm>:<part>``), so nothing is posted twice. Ledger (all in the
merchant's currency; docs/billing.md):

- commission: merchant_receivable → platform_revenue;
- funding used by the month's rewards, billed on this invoice: merchant_receivable → merchant_funding
  (the prepaid float is restored; the invoice collects it);
- after that the month's part of the receivable is -total: what the payment (or the transfer to the
  merchant, for a negative total) settles (``billing_payments``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from merchants.billing_selectors import (
    MonthFigures,
    billed_currencies,
    billing_time_zone,
    merchants_with_activity,
    month_figures,
    next_month,
)
from merchants.errors import BillingPeriodOpenError
from merchants.models import Merchant, MerchantInvoice, MerchantInvoiceLine
from merchants.services.audit import AuditAction, audit_record
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, platform_account, transaction_post, transfer


def _today(now: datetime) -> date:
    return timezone.localtime(now, billing_time_zone()).date()


def invoice_number(*, merchant_id: int, currency: str, period: date) -> str:
    return f"CB-{period:%Y%m}-{merchant_id:06d}-{currency}"


def invoices_close_month(*, period: date, now: datetime | None = None) -> list[int]:
    """Close ``period``'s month for every merchant with activity; returns the statements' ids."""
    ids: list[int] = []
    for merchant_id in merchants_with_activity(period=period):
        for currency in billed_currencies(merchant_id=merchant_id, period=period):
            invoice = invoice_close(merchant_id=merchant_id, currency=currency, period=period, now=now)
            if invoice is not None:
                ids.append(invoice.pk)
    return ids


def invoice_close(
    *, merchant_id: int, currency: str, period: date, now: datetime | None = None
) -> MerchantInvoice | None:
    """The merchant's statement for the month and currency: made once, or the one already made.

    None when the merchant had nothing that month. Raises ``BillingPeriodOpenError`` for a month
    that is not over yet. Sending to Stripe (or the transfer) runs after commit.
    """
    now = now or timezone.now()
    period = period.replace(day=1)
    if next_month(period) > _today(now):
        raise BillingPeriodOpenError()
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=merchant_id)
        existing = MerchantInvoice.objects.filter(merchant=merchant, currency=currency, period=period).first()
        if existing is not None:
            return existing
        figures = month_figures(merchant_id=merchant_id, currency=currency, period=period)
        if figures.is_empty:
            return None
        invoice = _create(merchant=merchant, figures=figures, now=now)
        _post_ledger(invoice=invoice, figures=figures)
        audit_record(
            merchant=merchant,
            actor=None,
            action=AuditAction.INVOICE_ISSUED,
            details={"invoice": invoice.number, "total_minor": invoice.total_minor, "currency": currency},
        )
        if invoice.status == MerchantInvoice.Status.DRAFT:
            transaction.on_commit(lambda: _send_later(invoice.pk))
    return invoice


def _send_later(invoice_id: int) -> None:
    # Imported here to break a cycle: merchants.tasks imports these services at module level.
    from merchants.tasks import invoice_send

    invoice_send.delay(invoice_id)


def _create(*, merchant: Merchant, figures: MonthFigures, now: datetime) -> MerchantInvoice:
    total = figures.total_minor
    invoice = MerchantInvoice.objects.create(
        merchant=merchant,
        currency=figures.currency,
        period=figures.period,
        number=invoice_number(merchant_id=merchant.pk, currency=figures.currency, period=figures.period),
        kind=MerchantInvoice.Kind.INVOICE if total >= 0 else MerchantInvoice.Kind.CREDIT_TRANSFER,
        # Nothing to collect or pay (everything netted out): settled as it stands.
        status=MerchantInvoice.Status.PAID if total == 0 else MerchantInvoice.Status.DRAFT,
        paid_at=now if total == 0 else None,
        funded_minor=figures.funded_minor,
        cost_minor=figures.cost_minor,
        programme_minor=figures.programme_minor,
        commission_exact=figures.commission_exact,
        commission_minor=figures.commission_minor,
        spent_minor=figures.spent_minor,
        total_minor=total,
        due_date=_today(now) + timedelta(days=settings.BILLING_PAYMENT_TERMS_DAYS),
    )
    month = f"{figures.period:%B %Y}"
    lines = [
        (MerchantInvoiceLine.Kind.CASHBACK, f"Cashback your offers paid, {month}", figures.cost_minor),
        (
            MerchantInvoiceLine.Kind.COMMISSION,
            f"Platform commission on that cashback, {month}",
            figures.commission_minor,
        ),
        (
            MerchantInvoiceLine.Kind.SPENT,
            f"Cashback your customers spent at your checkout, {month}",
            -figures.spent_minor,
        ),
    ]
    if figures.programme_minor:
        # Only when there were some: the statements of merchants without programmes keep their three lines.
        lines.insert(
            1,
            (
                MerchantInvoiceLine.Kind.PROGRAMME,
                f"Cash rewards of your business programmes, {month}",
                figures.programme_minor,
            ),
        )
    MerchantInvoiceLine.objects.bulk_create(
        MerchantInvoiceLine(
            invoice=invoice,
            kind=kind,
            description=description,
            amount_minor=amount,
            idempotency_key=f"{invoice.ledger_key}:item:{kind}",
        )
        for kind, description, amount in lines
    )
    return invoice


def _post_ledger(*, invoice: MerchantInvoice, figures: MonthFigures) -> None:
    owner_key = invoice.merchant.ledger_owner_key
    receivable = account_get_or_create(
        kind=AccountKind.MERCHANT_RECEIVABLE, currency=invoice.currency, owner_key=owner_key
    )
    funding = account_get_or_create(kind=AccountKind.MERCHANT_FUNDING, currency=invoice.currency, owner_key=owner_key)
    causes = {"merchant_invoice": invoice.pk, "merchant": invoice.merchant_id}
    if invoice.commission_minor:
        transaction_post(
            idempotency_key=f"{invoice.ledger_key}:commission",
            kind=JournalKind.FEE,
            entries=transfer(
                debit=receivable,
                credit=platform_account(kind=AccountKind.PLATFORM_REVENUE, currency=invoice.currency),
                amount=invoice.commission_minor,
            ),
            memo=f"Commission {invoice.number}",
            causes=causes,
        )
    if figures.funded_minor:
        # Positive: the funding the rewards used is restored and billed. Negative (reversals gave the
        # funding back more than the month's rewards took): the surplus goes to the receivable.
        debit, credit = (receivable, funding) if figures.funded_minor > 0 else (funding, receivable)
        transaction_post(
            idempotency_key=f"{invoice.ledger_key}:funding",
            kind=JournalKind.MERCHANT_FUNDING,
            entries=transfer(debit=debit, credit=credit, amount=abs(figures.funded_minor)),
            memo=f"Funding used by rewards, billed on {invoice.number}",
            causes=causes,
        )
