"""Partner charities, their impact units, consumers' auto-donate settings and monthly disbursements.

Money given to a charity is never stored here: donations, charity rewards and disbursements are
journal transactions in the ledger (wallet), on the charity's ``charity_payable`` account
(``owner_key="charity:<id>"``). Impact figures are computed from those entries
(``charity.selectors``). A ``Disbursement`` row exists because a transfer to the outside world
needs its idempotency key and status stored before the call (docs/charity.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wallet.models import Currency


class Charity(models.Model):
    """A partner charity: who it is, what a unit of its impact costs, where its money goes."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    country = models.CharField(max_length=2, default="NO", help_text="Country of registration (NO, SE, DK, FI).")
    organisation_number = models.CharField(max_length=20)
    cause = models.CharField(max_length=120, help_text="One line: what the charity works for.")
    description = models.TextField(blank=True)
    # A path under the static files (e.g. "charity/logos/skolebenken.svg"): logos are ours to
    # serve, the Content-Security-Policy allows images from our own origin only.
    logo_path = models.CharField(max_length=200, blank=True)
    website = models.URLField(blank=True)
    impact_unit = models.CharField(max_length=60, help_text='Singular, e.g. "school desk".')
    impact_unit_plural = models.CharField(max_length=60, help_text='Plural, e.g. "school desks".')
    is_active = models.BooleanField(default=True, help_text="Inactive charities take no new donations.")
    stripe_account_id = models.CharField(
        max_length=64, blank=True, help_text="Stripe connected account (acct_...) that receives disbursements."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "charities"
        constraints = [
            models.UniqueConstraint(fields=["country", "organisation_number"], name="charity_unique_org_number"),
            models.CheckConstraint(condition=~Q(name=""), name="charity_name_not_blank"),
            models.CheckConstraint(condition=~Q(impact_unit=""), name="charity_impact_unit_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner_key(self) -> str:
        """The ledger owner of this charity's accounts."""
        return f"charity:{self.pk}"


class ImpactCost(models.Model):
    """What one impact unit costs in a currency, e.g. a school desk = 80 000 øre."""

    charity = models.ForeignKey(Charity, on_delete=models.CASCADE, related_name="impact_costs")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    unit_cost_minor = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["charity_id", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["charity", "currency"], name="charity_impact_cost_unique_currency"),
            models.CheckConstraint(condition=Q(unit_cost_minor__gt=0), name="charity_impact_cost_positive"),
            models.CheckConstraint(
                condition=Q(currency__in=Currency.values), name="charity_impact_cost_currency_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.charity} {self.unit_cost_minor} {self.currency}"


class AutoDonateSetting(models.Model):
    """A consumer's standing choice: ``share_percent`` of every reward that becomes available goes to ``charity``."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auto_donate")
    charity = models.ForeignKey(Charity, on_delete=models.PROTECT, related_name="auto_donate_settings")
    share_percent = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_percent__gte=0) & Q(share_percent__lte=100), name="charity_auto_donate_share_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.share_percent}% to {self.charity_id}"


class Disbursement(models.Model):
    """One transfer of what a charity is owed in one currency for one month, to its Stripe account.

    Exactly once: the row, its idempotency key and the ledger move (charity payable → payouts in
    transit) are committed together before Stripe is called; the call carries the key, so a
    retry after a crash returns the same transfer; recording the result is idempotent.
    """

    class Status(models.TextChoices):
        PROCESSING = "processing", _("Processing")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    charity = models.ForeignKey(Charity, on_delete=models.PROTECT, related_name="disbursements")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    period = models.DateField(help_text="First day of the month disbursed.")
    amount_minor = models.BigIntegerField()
    destination = models.CharField(max_length=64, help_text="The Stripe account the transfer goes to (a snapshot).")
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROCESSING)
    stripe_transfer_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period", "charity_id", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["charity", "currency", "period"], name="charity_disbursement_once_a_month"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="charity_disbursement_amount_positive"),
            models.CheckConstraint(
                condition=(
                    Q(status="processing", paid_at__isnull=True, failed_at__isnull=True)
                    | Q(status="paid", paid_at__isnull=False, failed_at__isnull=True) & ~Q(stripe_transfer_id="")
                    | Q(status="failed", paid_at__isnull=True, failed_at__isnull=False)
                ),
                name="charity_disbursement_status_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], condition=Q(status="processing"), name="charity_disbursement_open_idx")
        ]

    def __str__(self) -> str:
        return f"{self.charity_id} {self.amount_minor} {self.currency} {self.period:%Y-%m} {self.status}"

    @property
    def ledger_key(self) -> str:
        """Idempotency key of the ledger move that takes the money out of the charity's payable account."""
        return f"{self.idempotency_key}:out"
