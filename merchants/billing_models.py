"""Billing tables (F-M3): commission rates with history, monthly invoices and their lines.

Imported at the end of ``merchants.models`` (Django finds the models there). The workflows are in
``merchants.services.billing_*``; the reads in ``merchants.billing_selectors``; docs/billing.md.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant
from wallet.models import Currency


class CommissionRate(models.Model):
    """The platform's commission for one merchant from ``valid_from`` on, as a fraction of the
    cashback its offers paid (0.15 = 15 %). Append-only: a change is a new row; the rate in force on
    a day is the row with the latest ``valid_from`` on or before it (the newest row on a tie). With
    no row, ``PLATFORM_COMMISSION_RATE`` applies (``merchants.selectors.commission_rate``)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="commission_rates")
    rate = models.DecimalField(max_digits=5, decimal_places=4)
    valid_from = models.DateField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["merchant_id", "-valid_from", "-id"]
        indexes = [models.Index(fields=["merchant", "valid_from"], name="commissionrate_merchant_from")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate__gte=Decimal("0")) & models.Q(rate__lt=Decimal("1")),
                name="commissionrate_rate_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.rate} from {self.valid_from}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Commission rates are append-only: add a new rate instead.")
        super().save(*args, **kwargs)


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    OVERDUE = "overdue", _("Overdue")
    VOID = "void", _("Void")


class InvoiceKind(models.TextChoices):
    # The merchant owes the platform: a Stripe invoice on its customer.
    INVOICE = "invoice", _("Invoice")
    # The platform owes the merchant (its customers spent more cashback at its checkout than it
    # was charged): a Stripe transfer to its connected account instead.
    CREDIT_TRANSFER = "credit_transfer", _("Transfer to you")


class MerchantInvoice(models.Model):
    """One merchant's statement for one calendar month (Europe/Oslo) in one currency.

    ``total_minor = cost_minor + programme_minor + commission_minor - spent_minor`` (a database rule): positive, an
    invoice the merchant pays; negative, a transfer to the merchant; zero, settled as it stands.
    ``cost_minor`` is what the ledger moved out of the merchant for rewards in the month, net of
    reversals: ``funded_minor`` from its prepaid funding, the rest from its receivable.
    ``programme_minor`` is the cash its business programmes paid out (tier and action rewards, the
    ``programme_reward`` journals on its receivable): its own line, without commission. Points are
    not money and are never invoiced.
    """

    Status = InvoiceStatus
    Kind = InvoiceKind

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="invoices")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    # The first day of the month billed.
    period = models.DateField()
    number = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=16, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    funded_minor = models.BigIntegerField(default=0)
    cost_minor = models.BigIntegerField(default=0)
    # Cash rewards of the merchant's business programmes (programmes app), net; no commission on them.
    programme_minor = models.BigIntegerField(default=0)
    # The month's commission before rounding: the sum over days of that day's cost x its rate.
    commission_exact = models.DecimalField(max_digits=24, decimal_places=4, default=Decimal("0"))
    commission_minor = models.BigIntegerField(default=0)
    spent_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    due_date = models.DateField()
    # Stripe's ids (outside ids: kept here, never in the ledger).
    stripe_invoice_id = models.CharField(max_length=64, blank=True)
    stripe_invoice_url = models.URLField(max_length=500, blank=True)
    stripe_transfer_id = models.CharField(max_length=64, blank=True)
    stripe_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period", "currency", "-id"]
        indexes = [models.Index(fields=["status", "due_date"], name="merchantinvoice_status_due")]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "currency", "period"], name="merchantinvoice_one_per_month"),
            models.CheckConstraint(
                condition=models.Q(
                    total_minor=models.F("cost_minor")
                    + models.F("programme_minor")
                    + models.F("commission_minor")
                    - models.F("spent_minor")
                ),
                name="merchantinvoice_total_adds_up",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=InvoiceStatus.values), name="merchantinvoice_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(kind__in=InvoiceKind.values), name="merchantinvoice_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(currency__in=Currency.values), name="merchantinvoice_currency_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(commission_minor__gte=0) & models.Q(spent_minor__gte=0),
                name="merchantinvoice_commission_spent_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", total_minor__gte=0)
                | models.Q(kind="credit_transfer", total_minor__lt=0),
                name="merchantinvoice_kind_matches_sign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display()})"

    @property
    def ledger_key(self) -> str:
        """The prefix of every idempotency key of this statement (ledger and Stripe)."""
        return f"invoice:{self.merchant_id}:{self.currency}:{self.period:%Y-%m}"

    @property
    def is_transfer(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_TRANSFER


class InvoiceLineKind(models.TextChoices):
    CASHBACK = "cashback", _("Cashback your offers paid")
    COMMISSION = "commission", _("Platform commission")
    SPENT = "spent", _("Cashback your customers spent at your checkout")
    PROGRAMME = "programme", _("Cash rewards of your business programmes")


class MerchantInvoiceLine(models.Model):
    """A line of a statement, as it goes to Stripe as an invoice item (with its own key)."""

    Kind = InvoiceLineKind

    invoice = models.ForeignKey(MerchantInvoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=InvoiceLineKind.choices)
    description = models.CharField(max_length=200)
    # Signed: the spent line is negative (a credit to the merchant).
    amount_minor = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["invoice_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "kind"], name="merchantinvoiceline_one_per_kind"),
            models.CheckConstraint(
                condition=models.Q(kind__in=InvoiceLineKind.values), name="merchantinvoiceline_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.kind} {self.amount_minor}"
