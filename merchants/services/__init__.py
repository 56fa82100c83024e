"""Business operations on merchants, their teams and shops, one module per job.

Each function validates what the database cannot, changes state in one transaction, writes an
``AuditEvent`` for every change a person makes (F-P4, F-X7), and sends e-mail only after commit,
through ``notifications``. Callers import from here (``from merchants import services``); the
modules are ``audit``, ``onboarding`` (sign-up and review), ``team`` (invitations and memberships),
``locations``, ``api_keys``, ``customers`` and ``stripe_connect``.
"""

from merchants.services.api_keys import (
    API_KEY_PREFIX,
    API_KEY_SHOWN_CHARACTERS,
    MAX_ACTIVE_API_KEYS,
    api_key_create,
    api_key_hash,
    api_key_revoke,
)
from merchants.services.audit import AuditAction, audit_record
from merchants.services.customers import customer_link_save, customer_match
from merchants.services.locations import (
    ADDRESS_FIELDS,
    LOCATION_FIELDS,
    location_create,
    location_delete,
    location_update,
)
from merchants.services.locks import merchant_lock
from merchants.services.onboarding import (
    SETTINGS_FIELDS,
    merchant_apply,
    merchant_approve,
    merchant_reinstate,
    merchant_reject,
    merchant_suspend,
    merchant_update_settings,
)
from merchants.services.stripe_connect import (
    stripe_connect_start,
    stripe_connection_refresh,
    stripe_disconnect,
    stripe_payment_claim_for_charge,
    stripe_payment_claim_for_invoice,
    stripe_refund_delta,
)
from merchants.services.team import (
    INVITATION_VALIDITY,
    invitation_accept,
    invitation_accept_url,
    invitation_by_token,
    invitation_check,
    invitation_revoke,
    invitation_send,
    membership_change_role,
    membership_remove,
)

__all__ = [
    "ADDRESS_FIELDS",
    "API_KEY_PREFIX",
    "API_KEY_SHOWN_CHARACTERS",
    "INVITATION_VALIDITY",
    "LOCATION_FIELDS",
    "MAX_ACTIVE_API_KEYS",
    "SETTINGS_FIELDS",
    "AuditAction",
    "api_key_create",
    "api_key_hash",
    "api_key_revoke",
    "audit_record",
    "customer_link_save",
    "customer_match",
    "invitation_accept",
    "invitation_accept_url",
    "invitation_by_token",
    "invitation_check",
    "invitation_revoke",
    "invitation_send",
    "location_create",
    "location_delete",
    "location_update",
    "membership_change_role",
    "membership_remove",
    "merchant_apply",
    "merchant_approve",
    "merchant_lock",
    "merchant_reinstate",
    "merchant_reject",
    "merchant_suspend",
    "merchant_update_settings",
    "stripe_connect_start",
    "stripe_connection_refresh",
    "stripe_disconnect",
    "stripe_payment_claim_for_charge",
    "stripe_payment_claim_for_invoice",
    "stripe_refund_delta",
]
