"""Achievement without products (issue 20): a business customer linked to the shops it trades as on the
platform and to its Stripe customer id, and the value of each card purchase or paid Stripe invoice that
counted for it. See ``programmes/linked_sources.py``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SourceLinkKind(models.TextChoices):
    SHOP = "shop", _("Shop on the platform")
    STRIPE_CUSTOMER = "stripe_customer", _("Stripe customer")


class CustomerSourceLink(models.Model):
    """One source of a business customer's purchases. ``shop``: card purchases at ``merchant`` count;
    ``stripe_customer``: paid invoices of ``stripe_customer_id`` on the brand owner's own Stripe account
    (``merchant`` is then the brand owner's merchant) count. A link is never deleted: unlinking sets
    ``removed_at`` (the history stays), and purchases already counted stay counted."""

    Kind = SourceLinkKind

    brand_owner = models.ForeignKey("programmes.BrandOwner", on_delete=models.CASCADE, related_name="source_links")
    customer = models.ForeignKey("programmes.BusinessCustomer", on_delete=models.CASCADE, related_name="source_links")
    kind = models.CharField(max_length=20, choices=SourceLinkKind.choices)
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SourceLinkKind.values), name="source_link_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind="shop") & Q(stripe_customer_id=""))
                | (Q(kind="stripe_customer") & ~Q(stripe_customer_id="")),
                name="source_link_kind_consistent",
            ),
            # A shop, or a Stripe customer, is one business customer's for a brand owner (while linked).
            models.UniqueConstraint(
                fields=["brand_owner", "merchant"],
                condition=Q(kind="shop", removed_at__isnull=True),
                name="source_link_shop_once",
            ),
            models.UniqueConstraint(
                fields=["brand_owner", "stripe_customer_id"],
                condition=Q(kind="stripe_customer", removed_at__isnull=True),
                name="source_link_stripe_once",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "kind"], name="source_link_merchant")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.kind} {self.stripe_customer_id or self.merchant_id}"


class PurchaseValueSource(models.TextChoices):
    CARD = "card", _("Card purchase")
    STRIPE_INVOICE = "stripe_invoice", _("Stripe invoice")


class PurchaseValue(models.Model):
    """What one card purchase or paid Stripe invoice counts for a business customer: its amount net of
    refunds (``value_minor``), towards contracts whose target is a value. Once per (customer, purchase):
    a repeated fact finds the row; a refund lowers it; a full refund or reversal leaves 0."""

    Source = PurchaseValueSource

    customer = models.ForeignKey(
        "programmes.BusinessCustomer", on_delete=models.PROTECT, related_name="purchase_values"
    )
    purchase_id = models.BigIntegerField()
    source = models.CharField(max_length=20, choices=PurchaseValueSource.choices)
    reference = models.CharField(max_length=100, help_text="The purchase's id at its source (in_…, a card id).")
    merchant_name = models.CharField(max_length=100)
    sold_on = models.DateField()
    value_minor = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-sold_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "purchase_id"], name="purchase_value_once"),
            models.CheckConstraint(condition=Q(value_minor__gte=0), name="purchase_value_not_negative"),
            models.CheckConstraint(
                condition=Q(source__in=PurchaseValueSource.values), name="purchase_value_source_valid"
            ),
        ]
        indexes = [models.Index(fields=["customer", "sold_on"], name="purchase_value_customer_day")]

    def __str__(self) -> str:
        return f"purchase {self.purchase_id}: {self.value_minor}"
