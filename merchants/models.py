"""Merchants (F-M1), their people (F-A3, F-P4) and their shops (F-M2).

Workflows live in ``merchants.services``; reads in ``merchants.selectors``. The models hold the
tables, the rules the database can enforce, and small properties.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The countries organisations register in, shared with charities (so it lives in the base app).
from cashback.organisation_numbers import Country

# Merchants use the ledger's currencies: one list of what the platform can hold money in.
from wallet.models import Currency

# The currency a merchant in a country is proposed when it signs up; it may choose another one.
DEFAULT_CURRENCY_BY_COUNTRY = {
    Country.NORWAY: Currency.NOK,
    Country.SWEDEN: Currency.SEK,
    Country.DENMARK: Currency.DKK,
    Country.FINLAND: Currency.EUR,
}


class MerchantStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class MembershipRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    ANALYST = "analyst", _("Analyst")


def merchant_slug_placeholder() -> str:
    """A unique slug for a merchant made outside the sign-up service (which names it: ``merchants.slugs``)."""
    return f"shop-{secrets.token_hex(6)}"


class Merchant(models.Model):
    """A business that offers cashback. Life cycle: pending_review → approved | rejected;
    approved → suspended → approved (reinstated)."""

    Status = MerchantStatus

    legal_name = models.CharField(max_length=200)
    display_name = models.CharField(max_length=100)
    # The public page's address (/shops/<slug>/), made from the name at sign-up and kept when the name
    # changes, so shared links stay valid (merchants.slugs).
    slug = models.SlugField(max_length=120, unique=True, default=merchant_slug_placeholder)
    # Digits only (spaces, dashes stripped); valid for ``country`` (see merchants.validators).
    organisation_number = models.CharField(max_length=16)
    country = models.CharField(max_length=2, choices=Country.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    category_code = models.CharField("category (MCC)", max_length=4, help_text="Four-digit merchant category code")
    contact_name = models.CharField(max_length=150)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=20, blank=True)
    # The language of the merchant's e-mails (review decisions, invitations): set from the applicant's
    # language at application, changed on the settings page; blank means the platform's default.
    language = models.CharField(_("language of e-mails"), max_length=8, choices=settings.LANGUAGES, blank=True)
    # Billing details (merchants.billing_details): where invoices go, and the VAT number printed on
    # them (normalised: Norway "123456789MVA", EU "SE556677889901"). Empty until given.
    billing_email = models.EmailField(blank=True)
    vat_number = models.CharField("VAT number", max_length=20, blank=True)
    # The merchant as a customer of the platform's own Stripe account (monthly invoices); made on
    # the first invoice, with an idempotency key derived from the merchant.
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=MerchantStatus.choices, default=MerchantStatus.PENDING_REVIEW)
    # Why it was rejected or suspended; shown to the merchant. Empty while pending or approved.
    status_reason = models.TextField(blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "organisation_number"], name="merchant_org_number_unique_per_country"
            ),
            models.CheckConstraint(condition=models.Q(status__in=MerchantStatus.values), name="merchant_status_valid"),
            models.CheckConstraint(condition=models.Q(country__in=Country.values), name="merchant_country_valid"),
            models.CheckConstraint(condition=models.Q(currency__in=Currency.values), name="merchant_currency_valid"),
            models.CheckConstraint(
                condition=models.Q(category_code__regex=r"^[0-9]{4}$"), name="merchant_mcc_4_digits"
            ),
            models.CheckConstraint(
                condition=models.Q(organisation_number__regex=r"^[0-9]{7,12}$"), name="merchant_org_number_digits"
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["rejected", "suspended"]) | ~models.Q(status_reason=""),
                name="merchant_rejected_or_suspended_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(legal_name="") & ~models.Q(display_name=""), name="merchant_names_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def email_language(self) -> str:
        """The language to write to the merchant in: its own, else the platform's default."""
        return self.language or settings.LANGUAGE_CODE

    @property
    def is_active_for_rewards(self) -> bool:
        """Whether purchases here may earn new rewards: only an approved (not suspended) merchant."""
        return self.status == self.Status.APPROVED

    @property
    def ledger_owner_key(self) -> str:
        return f"merchant:{self.pk}"


class Membership(models.Model):
    """A user working for a merchant, with one role there (F-A3)."""

    Role = MembershipRole

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_memberships")
    role = models.CharField(max_length=16, choices=MembershipRole.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["merchant_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "user"], name="membership_one_per_user_and_merchant"),
            models.CheckConstraint(condition=models.Q(role__in=MembershipRole.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.merchant}"


# Role sets for ``merchants.decorators.merchant_role_required``.
ANY_ROLE = (Membership.Role.OWNER, Membership.Role.MANAGER, Membership.Role.ANALYST)
EDITORS = (Membership.Role.OWNER, Membership.Role.MANAGER)
OWNERS = (Membership.Role.OWNER,)


class Invitation(models.Model):
    """An owner's invitation for someone to join the merchant's team with a role.

    Only a SHA-256 hash of the token is stored; the token itself travels in the e-mailed link.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(Lower("email"), "merchant", name="invitation_email_merchant")]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Membership.Role.values), name="invitation_role_valid"),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="invitation_not_both_accepted_and_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} as {self.get_role_display()} at {self.merchant}"

    def is_open(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class Location(models.Model):
    """A shop of a merchant (F-M2). Purchases are matched to it by the card network's ids."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=120)
    street = models.CharField(max_length=200)
    postcode = models.CharField(max_length=10)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, choices=Country.choices)
    # Geocoded from the address where possible, or placed by hand on a map; both empty = "no map position".
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/Oslo")
    # {"mon": {"open": "08:00", "close": "17:00"} | {"closed": true}, ... "sun": ...}; {} = not given.
    opening_hours = models.JSONField(default=dict, blank=True)
    network_merchant_id = models.CharField("card-network merchant id", max_length=64, blank=True)
    network_store_id = models.CharField("card-network store id", max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["merchant_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["network_merchant_id", "network_store_id"],
                condition=~models.Q(network_merchant_id=""),
                name="location_network_ids_unique",
            ),
            models.CheckConstraint(
                condition=(models.Q(network_merchant_id="") & models.Q(network_store_id=""))
                | (~models.Q(network_merchant_id="") & ~models.Q(network_store_id="")),
                name="location_network_ids_both_or_neither",
            ),
            models.CheckConstraint(
                condition=(models.Q(latitude__isnull=True) & models.Q(longitude__isnull=True))
                | (models.Q(latitude__isnull=False) & models.Q(longitude__isnull=False)),
                name="location_coordinates_both_or_neither",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_range",
            ),
            models.CheckConstraint(condition=models.Q(country__in=Country.values), name="location_country_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} — {self.name}"

    @property
    def has_map_position(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class AuditEvent(models.Model):
    """Append-only record of who changed what at a merchant: staff reviews (F-X7) and the team's
    changes to members and locations (F-P4). Written only by ``merchants.services.audit_record``."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who it was at the time (their e-mail or phone), kept if the user is later erased.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="audit_events")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"])]
        constraints = [models.CheckConstraint(condition=~models.Q(action=""), name="auditevent_action_not_blank")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action} ({self.merchant})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)


class MerchantApiKey(models.Model):
    """A secret a merchant's own systems use for the partner API (``Authorization: Bearer <key>``).

    The plaintext is shown once, when the key is created; only its SHA-256 hash is stored, so a
    database leak does not leak usable keys. ``prefix`` (the first characters) tells keys apart in
    lists. A key belongs to one merchant, is never deleted, and once revoked stays revoked.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Updated at most once a minute (see merchants.authentication), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="merchantapikey_name_not_blank"),
            models.CheckConstraint(
                condition=models.Q(secret_hash__regex=r"^[0-9a-f]{64}$"), name="merchantapikey_hash_is_sha256"
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_by__isnull=True) | models.Q(revoked_at__isnull=False),
                name="merchantapikey_revoked_by_needs_revoked_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) at {self.merchant_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PartnerRequest(models.Model):
    """The first response to a partner API call with an ``Idempotency-Key`` (per merchant).

    A retry with the same key and the same request gets this response again without running the
    operation; the same key with another request is refused (``merchants.idempotency``). The row is
    inserted in the same transaction as the operation's writes, so it exists only if they do.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="partner_requests")
    api_key = models.ForeignKey(MerchantApiKey, on_delete=models.PROTECT, related_name="requests")
    idempotency_key = models.CharField(max_length=255)
    # SHA-256 of the request's fingerprint (method, path, canonical body).
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="partnerrequest_key_unique"),
            models.CheckConstraint(condition=~models.Q(idempotency_key=""), name="partnerrequest_key_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}:{self.idempotency_key} → {self.response_status}"


class CustomerLinkSource(models.TextChoices):
    PARTNER = "partner", _("Partner API customer reference")
    STRIPE = "stripe", _("Stripe customer")


class CustomerLinkVia(models.TextChoices):
    EMAIL_MATCH = "email_match", _("Matched by e-mail")
    PARTNER_API = "partner_api", _("Linked by the merchant through the partner API")
    INVOICE_MATCH = "invoice_match", _("Matched through the member's earlier invoice")


class CustomerLink(models.Model):
    """A merchant's own id of a customer (its system's customer reference, or a Stripe customer id on
    its connected account) → the platform's consumer. Purchases reported with that id earn for them.

    Made when an order or a Stripe event is matched by the consumer's e-mail address, or when the
    merchant links the id through the partner API. One id points to one consumer per merchant.
    """

    Source = CustomerLinkSource
    Via = CustomerLinkVia

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="customer_links")
    source = models.CharField(max_length=10, choices=CustomerLinkSource.choices)
    external_id = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_customer_links")
    via = models.CharField(max_length=16, choices=CustomerLinkVia.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["merchant_id", "source", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "source", "external_id"], name="customerlink_unique_id"),
            models.CheckConstraint(condition=~models.Q(external_id=""), name="customerlink_external_id_not_blank"),
            models.CheckConstraint(
                condition=models.Q(source__in=CustomerLinkSource.values), name="customerlink_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}:{self.source}:{self.external_id} → user {self.user_id}"


class StripeConnectionStatus(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    ACTIVE = "active", _("Connected")
    DISCONNECTED = "disconnected", _("Disconnected")


class StripeConnection(models.Model):
    """A merchant's Stripe account connected to the platform (Stripe Connect), so that its paid
    invoices and charges become purchases (F-T2). Events arrive at /webhooks/stripe/connect/ with
    ``account`` = ``stripe_account_id``; that is how they find the merchant."""

    Status = StripeConnectionStatus

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="stripe_connection")
    stripe_account_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=StripeConnectionStatus.choices, default=StripeConnectionStatus.ONBOARDING
    )
    charges_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["merchant_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stripe_account_id__startswith="acct_"), name="stripeconnection_account_id_format"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=StripeConnectionStatus.values), name="stripeconnection_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} — {self.stripe_account_id} ({self.get_status_display()})"


class StripeChargeRefundTotal(models.Model):
    """How much of a Stripe charge on a merchant's account has been turned into purchase refunds.

    ``charge.refunded`` carries the charge's cumulative ``amount_refunded``; the refund to apply is
    that minus ``refunded_minor`` (never negative), so duplicate, out-of-order and concurrent events
    apply every refunded krone exactly once (campaigns.stripe_source)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    charge_id = models.CharField(max_length=255, unique=True)
    refunded_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_minor__gte=0), name="stripechargerefundtotal_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.charge_id}: {self.refunded_minor} refunded"


class StripeInvoicePayment(models.Model):
    """Which invoice a payment (a PaymentIntent ``pi_…``, or a bare charge ``ch_…``) on a merchant's
    Stripe account paid, and whether its charge was counted as a purchase of its own first.

    Current API versions send no ``charge.invoice``: the link comes from ``invoice_payment.paid`` (or
    an invoice's expanded ``payments``), in either order with ``charge.succeeded``. Both handlers lock
    this row, so a charge counted before its invoice was known is reversed exactly once and a charge
    arriving after it is ignored (campaigns.stripe_source)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    payment_ref = models.CharField(max_length=255, unique=True, help_text="pi_… or ch_…")
    invoice_id = models.CharField(max_length=255, blank=True)
    charge_id = models.CharField(max_length=255, blank=True, help_text="The charge counted as a purchase, if any.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.payment_ref} → {self.invoice_id or '(no invoice yet)'}"


# Billing (F-M3): commission rates, the monthly invoices and their lines.
from merchants.billing_models import (  # noqa: E402, F401  (one models module for Django; the tables live there)
    CommissionRate,
    MerchantInvoice,
    MerchantInvoiceLine,
)
