"""Reads of merchants, memberships, invitations, locations and the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from merchants.billing_selectors import commission_rate_on
from merchants.models import (
    AuditEvent,
    CustomerLink,
    Invitation,
    Location,
    Membership,
    Merchant,
    MerchantApiKey,
    StripeConnection,
    StripeInvoicePayment,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


def membership_for(*, user: User, merchant_id: int) -> Membership | None:
    """The user's membership of that merchant (with the merchant loaded), or None."""
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.select_related("merchant").filter(user=user, merchant_id=merchant_id).first()


def merchants_of(*, user: User) -> QuerySet[Merchant]:
    """The merchants the user is a member of, each annotated with ``my_role``."""
    if user is None or not user.is_authenticated:
        return Merchant.objects.none()
    return (
        Merchant.objects.filter(memberships__user=user)
        .annotate(my_role=F("memberships__role"))
        .order_by("display_name", "id")
    )


def has_memberships(*, user: User | AnonymousUser | None) -> bool:
    """One EXISTS query: whether the user works for any merchant (the "Merchant portal" nav item)."""
    if user is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user).exists()


def merchant_can_earn(merchant: Merchant) -> bool:
    """Whether purchases at this merchant may earn new rewards (approved, not suspended)."""
    return merchant.is_active_for_rewards


def location_by_network_ids(*, network_merchant_id: str, network_store_id: str) -> Location | None:
    """The shop a card-network purchase happened at, with its merchant loaded, or None."""
    if not network_merchant_id or not network_store_id:
        return None
    return (
        Location.objects.select_related("merchant")
        .filter(network_merchant_id=network_merchant_id, network_store_id=network_store_id)
        .first()
    )


def locations_by_network_ids(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Location]:
    """``location_by_network_ids`` for many (network merchant id, network store id) pairs in one
    query: the shops found, by pair."""
    wanted = {(merchant_id, store_id) for merchant_id, store_id in pairs if merchant_id and store_id}
    if not wanted:
        return {}
    found = Location.objects.select_related("merchant").filter(
        network_merchant_id__in={pair[0] for pair in wanted}, network_store_id__in={pair[1] for pair in wanted}
    )
    # Unique per pair (location_network_ids_unique); the query may find pairs nobody asked for.
    by_pair = {(location.network_merchant_id, location.network_store_id): location for location in found.order_by()}
    return {pair: location for pair, location in by_pair.items() if pair in wanted}


def merchant_list(*, status: str = "", search: str = "") -> QuerySet[Merchant]:
    """Staff list: filter by status, search names, organisation number and contact e-mail."""
    queryset = Merchant.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    if search:
        term = search.strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        condition = Q(legal_name__icontains=term) | Q(display_name__icontains=term) | Q(contact_email__icontains=term)
        if digits:
            condition |= Q(organisation_number__contains=digits)
        queryset = queryset.filter(condition)
    return queryset.order_by("-created_at", "-id")


def merchant_review_queue() -> QuerySet[Merchant]:
    """Applications waiting for review, oldest first."""
    return Merchant.objects.filter(status=Merchant.Status.PENDING_REVIEW).order_by("created_at", "id")


def merchant_status_counts() -> dict[str, int]:
    rows = Merchant.objects.values("status").annotate(n=Count("id")).order_by()
    counts = {status: 0 for status in Merchant.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def applications_of(*, user: User) -> QuerySet[Merchant]:
    """Merchants the user applied for or owns: what the applicant's status page lists."""
    if user is None or not user.is_authenticated:
        return Merchant.objects.none()
    return (
        Merchant.objects.filter(Q(applied_by=user) | Q(memberships__user=user, memberships__role=Membership.Role.OWNER))
        .distinct()
        .order_by("-created_at", "-id")
    )


def members_of(*, merchant: Merchant) -> QuerySet[Membership]:
    return merchant.memberships.select_related("user").order_by("created_at", "id")


def owner_count(*, merchant: Merchant) -> int:
    return merchant.memberships.filter(role=Membership.Role.OWNER).count()


def open_invitations_of(*, merchant: Merchant, now: Any = None) -> QuerySet[Invitation]:
    now = now or timezone.now()
    return merchant.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).select_related("invited_by")


def locations_of(*, merchant: Merchant, map_position: str = "") -> QuerySet[Location]:
    """The merchant's shops; ``map_position`` "missing" or "placed" filters on coordinates."""
    queryset = merchant.locations.all()
    if map_position == "missing":
        queryset = queryset.filter(latitude__isnull=True)
    elif map_position == "placed":
        queryset = queryset.filter(latitude__isnull=False)
    return queryset.order_by("name", "id")


def audit_events_of(*, merchant: Merchant) -> QuerySet[AuditEvent]:
    return merchant.audit_events.select_related("actor").order_by("-created_at", "-id")


def api_keys_of(*, merchant: Merchant) -> QuerySet[MerchantApiKey]:
    """The merchant's API keys, active first, newest first (never the secret: only its prefix)."""
    return (
        MerchantApiKey.objects.filter(merchant=merchant)
        .select_related("created_by", "revoked_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
    )


def active_api_key_by_hash(*, secret_hash: str) -> MerchantApiKey | None:
    """The active key with this SHA-256 hash (merchant loaded), or None if unknown or revoked."""
    return (
        MerchantApiKey.objects.select_related("merchant")
        .filter(secret_hash=secret_hash, revoked_at__isnull=True)
        .first()
    )


def merchant_by_id(*, merchant_id: int) -> Merchant | None:
    return Merchant.objects.filter(pk=merchant_id).first()


def merchant_by_organisation_number(*, country: str, organisation_number: str) -> Merchant | None:
    """The merchant registered (in any status) under this organisation number, or None."""
    return Merchant.objects.filter(country=country, organisation_number=organisation_number).first()


def consumer_by_email(*, email: str) -> User | None:
    """The active user with this e-mail address (case-insensitive), or None — also when two accounts
    differ only in the case of their address (ambiguous: never guess whose purchase it is)."""
    email = (email or "").strip()
    if not email:
        return None
    users = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
    return users[0] if len(users) == 1 else None


def customer_link_user(*, merchant_id: int, source: str, external_id: str) -> User | None:
    """The consumer a merchant's customer id is linked to, or None."""
    if not external_id:
        return None
    link = (
        CustomerLink.objects.select_related("user")
        .filter(merchant_id=merchant_id, source=source, external_id=external_id, user__is_active=True)
        .first()
    )
    return link.user if link else None


def stripe_connection_by_account(*, account_id: str) -> StripeConnection | None:
    """The connection (merchant loaded) of a Stripe account, whatever its status, or None."""
    if not account_id:
        return None
    return StripeConnection.objects.select_related("merchant").filter(stripe_account_id=account_id).first()


def stripe_payment_invoice(*, merchant: Merchant, payment_refs: list[str]) -> str:
    """The invoice recorded as paid by one of these payments (``pi_…``/``ch_…``), or ""."""
    row = (
        StripeInvoicePayment.objects.filter(merchant=merchant, payment_ref__in=payment_refs)
        .exclude(invoice_id="")
        .first()
    )
    return row.invoice_id if row else ""


def stripe_connection_of(*, merchant: Merchant) -> StripeConnection | None:
    return StripeConnection.objects.filter(merchant=merchant).first()


def commission_rate(*, merchant_id: int, on: date) -> Decimal:
    """The platform's commission on the cashback ``merchant_id``'s offers paid ``on`` that day, as a
    fraction (0.15 = 15 %): the merchant's own rate in force then, else ``PLATFORM_COMMISSION_RATE``."""
    return commission_rate_on(merchant_id=merchant_id, on=on)
