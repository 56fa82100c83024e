"""Referrals (F-R1 to F-R3): the programme's terms, consumers' codes, friends and businesses referred.

Workflows live in ``referrals.services``; reads in ``referrals.selectors``; the rules and statuses
are described in docs/referrals.md. Bonuses are ledger transactions (``JournalKind.REFERRAL_BONUS``);
the amounts stored here are a copy written in the same database transaction, for the pages.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wallet.models import Currency


class ReferralProgram(models.Model):
    """One version of the programme's terms. Rows are never edited: staff save a new version, which
    applies to referrals created from then on; each referral keeps the version it was created under."""

    version = models.PositiveIntegerField(unique=True)
    qualification_window_days = models.PositiveSmallIntegerField(
        help_text="Days after sign-up in which the friend's qualifying purchase must be made."
    )
    monthly_cap = models.PositiveIntegerField(
        help_text="Bonuses one referrer may be paid per calendar month (friends and businesses together)."
    )
    review_window_hours = models.PositiveIntegerField(
        help_text="Referrals from the same network or device within this many hours are held for review."
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why this version was made.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="referrals_program_version_positive"),
            models.CheckConstraint(
                condition=Q(qualification_window_days__gte=1), name="referrals_program_window_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Referral programme v{self.version}"

    def amounts_for(self, currency: str) -> "ReferralProgramAmount | None":
        """This version's amounts in ``currency`` (uses the prefetched rows when there are some)."""
        for amount in self.amounts.all():
            if amount.currency == currency:
                return amount
        return None


class ReferralProgramAmount(models.Model):
    """A programme version's amounts in one currency, in minor units."""

    program = models.ForeignKey(ReferralProgram, on_delete=models.CASCADE, related_name="amounts")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    referrer_bonus_minor = models.BigIntegerField(default=0)
    friend_bonus_minor = models.BigIntegerField(default=0)
    business_bonus_minor = models.BigIntegerField(default=0)
    min_purchase_minor = models.BigIntegerField(default=0, help_text="The friend's purchase must reach this.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["program", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["program", "currency"], name="referrals_amount_unique_currency"),
            models.CheckConstraint(condition=Q(currency__in=Currency.values), name="referrals_amount_currency_valid"),
            models.CheckConstraint(
                condition=Q(referrer_bonus_minor__gte=0)
                & Q(friend_bonus_minor__gte=0)
                & Q(business_bonus_minor__gte=0)
                & Q(min_purchase_minor__gte=0),
                name="referrals_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.program.version} {self.currency}"


class ReferralCode(models.Model):
    """A consumer's own code, created the first time it is needed. Its row is also the referrer's lock
    for the monthly cap (``select_for_update`` before counting what was paid this month)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_code")
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z0-9]{6,16}$"), name="referrals_code_format")
        ]

    def __str__(self) -> str:
        return self.code


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a first purchase")
    QUALIFYING = "qualifying", _("Purchase made, waiting for its cashback")
    HELD = "held", _("Held for review")
    PAID = "paid", _("Bonus paid")
    CAPPED = "capped", _("Monthly limit reached")
    CANCELLED = "cancelled", _("Purchase refunded")
    REJECTED = "rejected", _("Not eligible")
    EXPIRED = "expired", _("No qualifying purchase in time")


# Statuses a referral can still move on from; the others are final.
OPEN_REFERRAL_STATUSES = (ReferralStatus.PENDING, ReferralStatus.QUALIFYING, ReferralStatus.HELD)


class Referral(models.Model):
    """A friend who signed up with a referrer's code. One per friend: a person is referred once."""

    Status = ReferralStatus

    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made")
    friend = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referred_by")
    code = models.CharField(max_length=16, help_text="The code used at sign-up.")
    program = models.ForeignKey(ReferralProgram, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.PENDING)
    # Why it was held, rejected, capped or cancelled (shown to staff; a plain version to consumers).
    status_reason = models.CharField(max_length=300, blank=True)
    # Abuse signals found at sign-up (same network or device within the review window): non-empty
    # means the bonus waits for staff instead of being paid.
    review_reasons = models.JSONField(default=list, blank=True)
    signup_ip = models.GenericIPAddressField(null=True, blank=True)
    network = models.CharField(max_length=64, blank=True, help_text="The sign-up IP's /24 (IPv4) or /64 (IPv6).")
    device_id = models.CharField(max_length=64, blank=True)
    qualifying_purchase = models.ForeignKey(
        "campaigns.Purchase", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, blank=True)
    referrer_bonus_minor = models.BigIntegerField(default=0)
    friend_bonus_minor = models.BigIntegerField(default=0)
    qualified_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["referrer", "status"], name="referral_referrer_status"),
            models.Index(fields=["referrer", "paid_at"], name="referral_referrer_paid"),
            models.Index(fields=["status", "created_at"], name="referral_status_created"),
            models.Index(fields=["network", "created_at"], name="referral_network_created"),
            models.Index(fields=["device_id", "created_at"], name="referral_device_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=F("friend")), name="referrals_no_self_referral"),
            models.CheckConstraint(condition=Q(status__in=ReferralStatus.values), name="referrals_status_valid"),
            models.CheckConstraint(
                condition=Q(referrer_bonus_minor__gte=0) & Q(friend_bonus_minor__gte=0),
                name="referrals_bonus_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_at__isnull=False) & ~Q(currency="")),
                name="referrals_paid_has_time_and_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk}: {self.referrer_id} → {self.friend_id} ({self.status})"


class BusinessReferralStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for the business to apply")
    SIGNED_UP = "signed_up", _("Business applied, waiting for approval")
    APPROVED = "approved", _("Business approved, waiting for its first offer")
    PAID = "paid", _("Bonus paid")
    CAPPED = "capped", _("Monthly limit reached")
    REJECTED = "rejected", _("Not eligible")


class BusinessReferral(models.Model):
    """A business a consumer brought to the platform: submitted by hand, or through the partner link.

    Linked to its merchant at partner sign-up (the link's code) or, failing that, when the merchant is
    approved and its organisation number matches a submission (the earliest submission wins).
    """

    Status = BusinessReferralStatus

    class Source(models.TextChoices):
        FORM = "form", _("Submitted by the consumer")
        LINK = "link", _("Partner link")

    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="business_referrals_made"
    )
    program = models.ForeignKey(ReferralProgram, on_delete=models.PROTECT, related_name="business_referrals")
    source = models.CharField(max_length=8, choices=Source.choices)
    business_name = models.CharField(max_length=200)
    country = models.CharField(max_length=2)
    organisation_number = models.CharField(max_length=16)
    contact_email = models.EmailField(blank=True)
    merchant = models.OneToOneField(
        "merchants.Merchant", null=True, blank=True, on_delete=models.PROTECT, related_name="business_referral"
    )
    status = models.CharField(
        max_length=12, choices=BusinessReferralStatus.choices, default=BusinessReferralStatus.SUBMITTED
    )
    status_reason = models.CharField(max_length=300, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices, blank=True)
    bonus_minor = models.BigIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["country", "organisation_number", "status"], name="bizref_org_status"),
            models.Index(fields=["referrer", "paid_at"], name="bizref_referrer_paid"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["referrer", "country", "organisation_number"], name="referrals_business_once_per_referrer"
            ),
            models.CheckConstraint(
                condition=Q(status__in=BusinessReferralStatus.values), name="referrals_business_status_valid"
            ),
            models.CheckConstraint(condition=Q(bonus_minor__gte=0), name="referrals_business_bonus_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_at__isnull=False) & ~Q(currency="") & Q(merchant__isnull=False)),
                name="referrals_business_paid_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"business referral {self.pk}: {self.business_name} ({self.status})"


class DeviceSighting(models.Model):
    """A device (and network) a consumer used: at sign-up and when looking at their referral code.

    The abuse checks compare a friend's sign-up device and network with the referrer's sightings.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_sightings")
    device_id = models.CharField(max_length=64, blank=True)
    network = models.CharField(max_length=64, blank=True)
    last_seen_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        indexes = [
            models.Index(fields=["device_id"], name="sighting_device"),
            models.Index(fields=["network", "last_seen_at"], name="sighting_network_seen"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "device_id", "network"], name="referrals_sighting_unique"),
            models.CheckConstraint(
                condition=~Q(device_id="") | ~Q(network=""), name="referrals_sighting_has_device_or_network"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.device_id or '-'} / {self.network or '-'}"
