"""What a merchant's campaigns bring: the daily figures behind the portal's insights and reports.

Two pre-aggregated tables, both rebuilt from the raw purchases and rewards (campaigns) by
``insights.figures`` — incrementally for the days campaigns records as changed, or in full by
``manage.py insights_rebuild``. The dimensions are plain ids, not foreign keys: an analytics row must
not block deleting an offer or a shop, and a removed shop's figures stay until a rebuild moves them
(docs/insights.md). ``offer_id`` null is "no offer" (purchases that earned nothing), ``location_id``
null an unknown shop.
"""

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from wallet.models import Currency


class DailyFigures(models.Model):
    """One merchant x offer x shop x currency x day.

    - ``revenue_minor``: cleared purchase amounts less refunds (a reversed purchase counts 0);
    - ``purchases``: cleared, not reversed purchases;
    - ``customers``: distinct consumers of those purchases on the day; ``new_customers`` those whose
      first purchase at the merchant ever is one of this row's (each consumer is new in exactly one
      row, so new customers add up over rows and days); ``returning_customers`` = customers - new;
    - ``cost_minor``: the offers' rewards net of reversals and refunds (charity rewards included),
      counted on the day of the purchase; ``charity_minor`` the charity rewards among them;
    - ``commission``: ``cost_minor`` x the merchant's commission rate on the day, exact (4 places).

    A purchase that earned from several offers counts its revenue, purchase and customer under the
    first of them (lowest offer id), so the merchant's totals add up; each offer's cost is its own.
    """

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    offer_id = models.BigIntegerField(null=True, blank=True)
    location_id = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    day = models.DateField()
    revenue_minor = models.BigIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    new_customers = models.PositiveIntegerField(default=0)
    returning_customers = models.PositiveIntegerField(default=0)
    cost_minor = models.BigIntegerField(default=0)
    charity_minor = models.BigIntegerField(default=0)
    commission = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["merchant_id", "day", "id"]
        indexes = [models.Index(fields=["merchant", "day"], name="insights_daily_merchant_day")]
        constraints = [
            models.UniqueConstraint(
                F("merchant"),
                Coalesce("offer_id", Value(0)),
                Coalesce("location_id", Value(0)),
                F("currency"),
                F("day"),
                name="insights_dailyfigures_one_row_per_key",
            ),
            models.CheckConstraint(
                condition=Q(new_customers__lte=F("customers")) & Q(returning_customers__lte=F("customers")),
                name="insights_dailyfigures_customers_add_up",
            ),
            models.CheckConstraint(
                condition=Q(charity_minor__gte=0), name="insights_dailyfigures_charity_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"merchant {self.merchant_id} offer {self.offer_id} shop {self.location_id} on {self.day}"


class CustomerDay(models.Model):
    """A consumer who bought (cleared, not reversed) at the merchant on a day, per offer x shop x currency.

    Distinct customers over a period are not the sum of daily counts; this table answers them exactly
    for any range and filter (``COUNT(DISTINCT user_id)``). ``user_id`` is a plain id (no foreign
    key): an erased consumer's purchases lose their user, and the next rebuild drops the row.
    """

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    offer_id = models.BigIntegerField(null=True, blank=True)
    location_id = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    day = models.DateField()
    user_id = models.BigIntegerField()
    purchases = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["merchant_id", "day", "id"]
        indexes = [
            models.Index(fields=["merchant", "day"], name="insights_custday_merchant_day"),
            models.Index(fields=["merchant", "user_id", "day"], name="insights_custday_user"),
        ]
        constraints = [
            models.UniqueConstraint(
                F("merchant"),
                Coalesce("offer_id", Value(0)),
                Coalesce("location_id", Value(0)),
                F("currency"),
                F("day"),
                F("user_id"),
                name="insights_customerday_one_row_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.user_id} at merchant {self.merchant_id} on {self.day}"


# Report exports live in their own module; importing it here lets Django find them.
from insights.export_models import ReportExport  # noqa: E402, F401
