"""Merchants in Django admin: for looking things up. Reviews (approve, reject, suspend) go through the
staff panel, which calls merchants.services and writes the audit log, so status fields are read-only here.
(No django-leaflet admin widgets: they need GDAL.)"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from merchants.models import (
    AuditEvent,
    CommissionRate,
    Invitation,
    Location,
    Membership,
    Merchant,
    MerchantApiKey,
    MerchantInvoice,
    MerchantInvoiceLine,
)
from merchants.services.billing_details import commission_rate_set


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["display_name", "legal_name", "country", "organisation_number", "currency", "status", "created_at"]
    list_filter = ["status", "country", "currency"]
    search_fields = ["display_name", "legal_name", "organisation_number", "contact_email"]
    readonly_fields = [
        "status",
        "status_reason",
        "organisation_number",
        "country",
        "currency",
        "applied_by",
        "reviewed_at",
        "approved_at",
        "suspended_at",
        "created_at",
        "updated_at",
    ]
    inlines = [MembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Merchants sign up at /partners/apply/.


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "merchant__display_name"]
    raw_id_fields = ["user", "merchant"]
    list_select_related = ["user", "merchant"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "merchant", "role", "expires_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "merchant__display_name"]
    list_select_related = ["merchant"]
    exclude = ["token_hash"]
    readonly_fields = ["merchant", "email", "role", "invited_by", "expires_at", "accepted_at", "accepted_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "city", "postcode", "network_merchant_id", "network_store_id", "latitude"]
    list_filter = ["country"]
    search_fields = ["name", "merchant__display_name", "network_merchant_id", "network_store_id", "postcode"]
    list_select_related = ["merchant"]
    raw_id_fields = ["merchant"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "merchant", "actor_label", "action"]
    list_filter = ["action"]
    search_fields = ["merchant__display_name", "actor_label", "action"]
    list_select_related = ["merchant"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MerchantApiKey)
class MerchantApiKeyAdmin(admin.ModelAdmin):
    """Look-up only: keys are created and revoked by the merchant's owners in the portal (audited)."""

    list_display = ["name", "prefix", "merchant", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "merchant__display_name"]
    list_select_related = ["merchant"]
    exclude = ["secret_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Billing (minimal until the staff panel lists invoices; docs/billing.md) ------------------


@admin.register(CommissionRate)
class CommissionRateAdmin(admin.ModelAdmin):
    """Staff set a merchant's commission rate from a date: a new row through the service (audited)."""

    list_display = ["merchant", "rate", "valid_from", "set_by", "created_at"]
    list_filter = ["valid_from"]
    raw_id_fields = ["merchant"]
    fields = ["merchant", "rate", "valid_from", "note"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # append-only history

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        saved = commission_rate_set(
            merchant=obj.merchant,
            rate=obj.rate,
            valid_from=obj.valid_from,
            actor=request.user if request.user.is_authenticated else None,  # admin pages require a login
            note=obj.note,
        )
        obj.pk = saved.pk


class MerchantInvoiceLineInline(admin.TabularInline):
    model = MerchantInvoiceLine
    extra = 0
    can_delete = False
    fields = ["kind", "description", "amount_minor", "idempotency_key"]
    readonly_fields = ["kind", "description", "amount_minor", "idempotency_key"]


@admin.register(MerchantInvoice)
class MerchantInvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "merchant", "period", "currency", "kind", "status", "total_minor", "due_date"]
    list_filter = ["status", "kind", "currency", "period"]
    search_fields = ["number", "merchant__display_name", "stripe_invoice_id"]
    inlines = [MerchantInvoiceLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # state changes come from Stripe through the services

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
