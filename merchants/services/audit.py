"""Audit events: one append-only row for every change a person makes to a merchant (F-P4, F-X7)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser

from merchants.models import (
    AuditEvent,
    Merchant,
)

if TYPE_CHECKING:
    from accounts.models import User

# --- Audit ---------------------------------------------------------------------------------


class AuditAction:
    """The ``action`` values of audit events (stable: filters and reports use them)."""

    MERCHANT_APPLIED = "merchant.applied"
    MERCHANT_APPROVED = "merchant.approved"
    MERCHANT_REJECTED = "merchant.rejected"
    MERCHANT_SUSPENDED = "merchant.suspended"
    MERCHANT_REINSTATED = "merchant.reinstated"
    MERCHANT_SETTINGS_CHANGED = "merchant.settings_changed"
    INVITATION_SENT = "invitation.sent"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    LOCATION_CREATED = "location.created"
    LOCATION_UPDATED = "location.updated"
    LOCATION_DELETED = "location.deleted"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    STRIPE_CONNECTED = "stripe.connected"
    STRIPE_DISCONNECTED = "stripe.disconnected"
    BILLING_DETAILS_CHANGED = "billing.details_changed"
    COMMISSION_RATE_SET = "billing.commission_rate_set"
    INVOICE_ISSUED = "billing.invoice_issued"
    INVOICE_STATUS_CHANGED = "billing.invoice_status_changed"
    # Campaigns' edits in the portal (F-P4), recorded by campaigns.services.offer_audit.
    OFFER_CREATED = "offer.created"
    OFFER_UPDATED = "offer.updated"
    OFFER_SUBMITTED = "offer.submitted"
    OFFER_APPROVED = "offer.approved"
    OFFER_REJECTED = "offer.rejected"
    OFFER_PAUSED = "offer.paused"
    OFFER_RESUMED = "offer.resumed"
    CHALLENGE_CREATED = "challenge.created"
    CHALLENGE_UPDATED = "challenge.updated"
    CHALLENGE_DELETED = "challenge.deleted"
    LINE_RULE_ADDED = "line_rule.added"
    LINE_RULE_DELETED = "line_rule.deleted"

    LABELS = {
        MERCHANT_APPLIED: "Applied to become a partner",
        MERCHANT_APPROVED: "Approved the merchant",
        MERCHANT_REJECTED: "Rejected the application",
        MERCHANT_SUSPENDED: "Suspended the merchant",
        MERCHANT_REINSTATED: "Reinstated the merchant",
        MERCHANT_SETTINGS_CHANGED: "Changed merchant settings",
        INVITATION_SENT: "Invited a team member",
        INVITATION_REVOKED: "Withdrew an invitation",
        INVITATION_ACCEPTED: "Joined the team",
        MEMBER_ROLE_CHANGED: "Changed a member's role",
        MEMBER_REMOVED: "Removed a team member",
        LOCATION_CREATED: "Added a shop",
        LOCATION_UPDATED: "Changed a shop",
        LOCATION_DELETED: "Deleted a shop",
        API_KEY_CREATED: "Created an API key",
        API_KEY_REVOKED: "Revoked an API key",
        STRIPE_CONNECTED: "Connected a Stripe account",
        STRIPE_DISCONNECTED: "Disconnected the Stripe account",
        BILLING_DETAILS_CHANGED: "Changed billing details",
        COMMISSION_RATE_SET: "Set the commission rate",
        INVOICE_ISSUED: "Issued a monthly statement",
        INVOICE_STATUS_CHANGED: "Invoice status changed",
        OFFER_CREATED: "Created an offer",
        OFFER_UPDATED: "Changed an offer",
        OFFER_SUBMITTED: "Submitted an offer for review",
        OFFER_APPROVED: "Approved an offer",
        OFFER_REJECTED: "Sent an offer back",
        OFFER_PAUSED: "Paused an offer",
        OFFER_RESUMED: "Resumed an offer",
        CHALLENGE_CREATED: "Added a challenge",
        CHALLENGE_UPDATED: "Changed a challenge",
        CHALLENGE_DELETED: "Deleted a challenge",
        LINE_RULE_ADDED: "Added a product rule",
        LINE_RULE_DELETED: "Deleted a product rule",
    }


def audit_record(
    *, merchant: Merchant, actor: User | AnonymousUser | None, action: str, details: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one audit event. Call inside the transaction of the change it records."""
    label = ""
    user = actor if actor is not None and not isinstance(actor, AnonymousUser) else None
    if user is not None:
        label = user.email or user.phone or f"user {user.pk}"
    return AuditEvent.objects.create(
        merchant=merchant, actor=user, actor_label=label, action=action, details=_jsonable(details or {})
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
