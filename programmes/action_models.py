"""Tables of rewards for actions (seed 003) and of achievement from purchases the platform sees.

Kept out of ``models.py`` so the two halves of issue 20 grow in separate files; ``models.py`` imports
this module, so Django registers the tables under the ``programmes`` app as usual.

- ``ActionRule``: a brand owner's rule that rewards one kind of action with cash or points, within a
  limit per member (per day, week, month or in total) and a schedule (from/until, weekdays).
- ``ActionReport``: one action reported (by a partner system or the platform itself), whatever it
  earned: unique per origin and the origin's key, so a report told twice is stored once.
- ``ActionOutcome``: what one rule made of one report (awarded, limit reached, outside the schedule, …),
  or "no rule"; unique per (rule, report), so an action is rewarded at most once per rule.
- ``PurchaseSale``: a product's share of a purchase reported with line items (partner API orders),
  counted like a sales line towards the customer's contracts; rewritten whenever the purchase changes.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActionKind(models.TextChoices):
    SURVEY_COMPLETED = "survey_completed", _("Survey completed")
    SOCIAL_SHARE = "social_share", _("Shared on social media")
    BIRTHDAY = "birthday", _("Birthday")
    PROFILE_COMPLETED = "profile_completed", _("Profile completed")
    REFERRAL = "referral", _("Friend referred")


# What a partner system may report; the others the platform itself sees and reports.
PARTNER_ACTIONS = (ActionKind.SURVEY_COMPLETED, ActionKind.SOCIAL_SHARE)


class ValueKind(models.TextChoices):
    CASH = "cash", _("Cash")
    POINTS = "points", _("Points")


class LimitPeriod(models.TextChoices):
    DAY = "day", _("per day")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")
    TOTAL = "total", _("in total")


ALL_WEEKDAYS = 0b1111111


class ActionRule(models.Model):
    """Reward ``action`` with ``value`` (minor units of the brand owner's currency, or points), at most
    ``limit_count`` times per member per ``limit_period``, for actions between ``active_from`` and
    ``active_until`` on the ``weekdays`` (a bit per day, Monday = bit 0; 0 = every day). A paused rule
    rewards nothing and is not counted as a rule. ``budget``, when set, caps what the rule gives in
    total (all members, in the value's unit: minor units or points): an award that would take the sum
    of its awards above it is refused (``budget_exhausted``)."""

    brand_owner = models.ForeignKey("programmes.BrandOwner", on_delete=models.CASCADE, related_name="action_rules")
    name = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=ActionKind.choices)
    value_kind = models.CharField(max_length=10, choices=ValueKind.choices, default=ValueKind.CASH)
    value = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    limit_count = models.PositiveIntegerField(default=1)
    limit_period = models.CharField(max_length=10, choices=LimitPeriod.choices, default=LimitPeriod.TOTAL)
    active_from = models.DateTimeField()
    active_until = models.DateTimeField(null=True, blank=True)
    weekdays = models.PositiveSmallIntegerField(default=0)
    paused = models.BooleanField(default=False)
    # The most the rule may give in total, in the value's unit; None: no cap.
    budget = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand_owner_id", "action", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gt=0), name="action_rule_budget_positive"
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="action_rule_value_positive"),
            models.CheckConstraint(condition=Q(limit_count__gt=0), name="action_rule_limit_positive"),
            models.CheckConstraint(condition=Q(weekdays__lte=ALL_WEEKDAYS), name="action_rule_weekdays_valid"),
            models.CheckConstraint(condition=Q(action__in=ActionKind.values), name="action_rule_action_valid"),
            models.CheckConstraint(condition=Q(value_kind__in=ValueKind.values), name="action_rule_value_kind_valid"),
            models.CheckConstraint(
                condition=Q(limit_period__in=LimitPeriod.values), name="action_rule_limit_period_valid"
            ),
            models.CheckConstraint(
                condition=Q(active_until__isnull=True) | Q(active_until__gt=F("active_from")),
                name="action_rule_schedule_valid",
            ),
        ]
        indexes = [models.Index(fields=["action", "paused"])]

    def __str__(self) -> str:
        return self.name

    def on_weekday(self, weekday: int) -> bool:
        """Monday is 0 (``date.weekday()``)."""
        return self.weekdays == 0 or bool(self.weekdays & (1 << weekday))


class ActionReport(models.Model):
    """One action a member did, as reported. ``origin`` is who reported it (``partner:<merchant id>`` or
    ``platform``) and ``source_key`` the reporter's own id of the event (the partner's event id; for the
    platform e.g. ``birthday:<user>:<year>``): unique together, so the same event is stored once."""

    class Source(models.TextChoices):
        PARTNER = "partner", _("Partner")
        PLATFORM = "platform", _("Platform")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="action_reports")
    action = models.CharField(max_length=20, choices=ActionKind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    origin = models.CharField(max_length=40)
    source_key = models.CharField(max_length=200)
    merchant = models.ForeignKey(
        "merchants.Merchant", null=True, blank=True, on_delete=models.SET_NULL, related_name="action_reports"
    )
    description = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["origin", "source_key"], name="action_report_once"),
            models.CheckConstraint(condition=Q(action__in=ActionKind.values), name="action_report_action_valid"),
        ]
        indexes = [models.Index(fields=["user", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.action} by {self.user_id} ({self.origin}:{self.source_key})"


class OutcomeResult(models.TextChoices):
    AWARDED = "awarded", _("Earned")
    LIMIT_REACHED = "limit_reached", _("Limit reached")
    OUTSIDE_SCHEDULE = "outside_schedule", _("Outside the rule's schedule")
    MEMBER_BLOCKED = "member_blocked", _("Account blocked")
    BUDGET_EXHAUSTED = "budget_exhausted", _("Budget exhausted")
    NO_RULE = "no_rule", _("No rule rewards this action")


class ActionOutcome(models.Model):
    """What one rule made of one report: at most one per (rule, report). A report no rule applied to has
    one outcome without a rule (``no_rule``). ``user`` and ``occurred_at`` are the report's, kept here
    so counting a member's awards in a period reads one index."""

    Result = OutcomeResult

    report = models.ForeignKey(ActionReport, on_delete=models.CASCADE, related_name="outcomes")
    rule = models.ForeignKey(ActionRule, null=True, blank=True, on_delete=models.PROTECT, related_name="outcomes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    occurred_at = models.DateTimeField()
    result = models.CharField(max_length=20, choices=OutcomeResult.choices)
    value_kind = models.CharField(max_length=10, choices=ValueKind.choices, blank=True)
    value = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    ledger_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "report"], condition=Q(rule__isnull=False), name="action_outcome_once_per_rule"
            ),
            models.UniqueConstraint(
                fields=["report"], condition=Q(rule__isnull=True), name="action_outcome_one_no_rule"
            ),
            models.CheckConstraint(condition=Q(result__in=OutcomeResult.values), name="action_outcome_result_valid"),
            models.CheckConstraint(
                condition=(Q(result=OutcomeResult.AWARDED) & Q(value__gt=0)) | (~Q(result=OutcomeResult.AWARDED)),
                name="action_outcome_award_has_value",
            ),
        ]
        indexes = [models.Index(fields=["rule", "user", "result", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.result}"


class PurchaseSale(models.Model):
    """One product's share of a purchase with line items, sold to a business customer: counts towards
    the customer's contracts like a ``SalesLine``. The rows of a purchase are replaced whenever it
    changes (a refund scales them down; a full refund or reversal leaves none)."""

    customer = models.ForeignKey("programmes.BusinessCustomer", on_delete=models.PROTECT, related_name="purchase_sales")
    product = models.ForeignKey("programmes.Product", on_delete=models.PROTECT, related_name="purchase_sales")
    purchase_id = models.BigIntegerField()
    sold_on = models.DateField()
    quantity = models.BigIntegerField()
    value_minor = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["purchase_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_id", "product"], name="purchase_sale_once"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="purchase_sale_quantity_not_negative"),
            models.CheckConstraint(condition=Q(value_minor__gte=0), name="purchase_sale_value_not_negative"),
        ]
        indexes = [models.Index(fields=["customer", "sold_on"])]

    def __str__(self) -> str:
        return f"purchase {self.purchase_id}: {self.product_id}"
