"""Fraud flags raised by the transaction-monitoring rules (F-X4), and the scan's cursor.

A flag names one rule, its subject (a purchase, a person, a card) and the window it saw; ``window_key``
is unique per rule, so a rule never raises the same flag twice for one subject and window, however
often the scan or the nightly sweep looks again. Staff move a flag from open to held, cleared or
escalated through ``monitoring.services``; every move is in the staff audit log. docs/monitoring.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FlagRule(models.TextChoices):
    VELOCITY = "velocity", _("Velocity (purchases per card per hour)")
    NEAR_DUPLICATE = "near_duplicate", _("Near-duplicate purchases")
    UNUSUAL_AMOUNT = "unusual_amount", _("Unusual amount for the merchant")
    REFUND_CYCLING = "refund_cycling", _("Refund cycling")
    REFERRAL_FARMING = "referral_farming", _("Referral farming")
    MANY_CARDS = "many_cards", _("Many cards on one person")
    SHARED_CARD = "shared_card", _("One card on many accounts")


class FlagSeverity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    HELD = "held", _("Rewards held")
    CLEARED = "cleared", _("Cleared")
    ESCALATED = "escalated", _("Escalated")


class FraudFlag(models.Model):
    """One rule's finding about one subject in one window. ``details`` holds the figures the rule saw
    (counts, ids, thresholds) — ids only, never a name, e-mail or card number."""

    Rule = FlagRule
    Severity = FlagSeverity
    Status = FlagStatus

    rule = models.CharField(max_length=20, choices=FlagRule.choices)
    severity = models.CharField(max_length=8, choices=FlagSeverity.choices, default=FlagSeverity.MEDIUM)
    window_key = models.CharField(max_length=120, help_text="The subject and window the rule saw; unique per rule.")
    purchase = models.ForeignKey(
        "campaigns.Purchase", null=True, blank=True, on_delete=models.SET_NULL, related_name="fraud_flags"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="fraud_flags"
    )
    card = models.ForeignKey("accounts.Card", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("hold_fraudflag", "Can hold the rewards of a fraud flag"),
            ("clear_fraudflag", "Can clear a fraud flag"),
            ("escalate_fraudflag", "Can escalate a fraud flag to blocking"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="fraudflag_status_created"),
            models.Index(fields=["user", "-created_at"], name="fraudflag_user_created"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["rule", "window_key"], name="monitoring_fraudflag_once_per_window"),
            models.CheckConstraint(condition=Q(rule__in=FlagRule.values), name="monitoring_fraudflag_rule_valid"),
            models.CheckConstraint(
                condition=Q(severity__in=FlagSeverity.values), name="monitoring_fraudflag_severity_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=FlagStatus.values), name="monitoring_fraudflag_status_valid"),
            models.CheckConstraint(
                condition=Q(purchase__isnull=False) | Q(user__isnull=False) | Q(card__isnull=False),
                name="monitoring_fraudflag_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} #{self.pk}"

    @property
    def hold_key(self) -> str:
        """The key of the reward holds this flag puts on (campaigns.RewardHold)."""
        return f"monitoring:flag:{self.pk}"

    @property
    def badge(self) -> str:
        return {"open": "warning", "held": "pending", "cleared": "success", "escalated": "failed"}[self.status]


class ScanCursor(models.Model):
    """How far the every-minute scan has looked: rows changed since ``position`` (less an overlap)
    are looked at next. One row per scan name; its row lock keeps two scans from running at once."""

    name = models.CharField(max_length=40, unique=True)
    position = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} at {self.position:%Y-%m-%d %H:%M:%S}"
