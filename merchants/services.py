"""Business operations on merchants, their teams and shops.

Each function validates what the database cannot, changes state in one transaction, writes an
``AuditEvent`` for every change a person makes (F-P4, F-X7), and sends e-mail only after commit.
"""

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cashback.events import announce
from cashback.providers.geocoder import Coordinates, get_geocoder
from cashback.providers.stripe_gateway import get_stripe_gateway
from merchants.errors import (
    AlreadyMemberError,
    ApiKeyNotFoundError,
    DuplicateNetworkIdsError,
    DuplicateOrganisationNumberError,
    InvalidApiKeyNameError,
    InvalidCoordinatesError,
    InvalidNetworkIdsError,
    InvalidRoleError,
    InvalidStatusTransitionError,
    InvitationExpiredError,
    InvitationNotFoundError,
    InvitationRevokedError,
    InvitationUsedError,
    InvitationWrongEmailError,
    LastOwnerError,
    LocationInUseError,
    ReasonRequiredError,
    TooManyApiKeysError,
)
from merchants.models import (
    AuditEvent,
    CustomerLink,
    Invitation,
    Location,
    Membership,
    Merchant,
    MerchantApiKey,
    StripeChargeRefundTotal,
    StripeConnection,
)
from merchants.selectors import consumer_by_email, customer_link_user
from merchants.validators import (
    validate_category_code,
    validate_country,
    validate_currency,
    validate_opening_hours,
    validate_organisation_number,
    validate_time_zone,
)
from wallet.models import AccountKind
from wallet.services import account_get_or_create

INVITATION_VALIDITY = timedelta(days=14)


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
    }


def audit_record(*, merchant: Merchant, actor: Any, action: str, details: dict[str, Any] | None = None) -> AuditEvent:
    """Append one audit event. Call inside the transaction of the change it records."""
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = actor.email or actor.phone or f"user {actor.pk}"
    else:
        actor = None
    return AuditEvent.objects.create(
        merchant=merchant, actor=actor, actor_label=label, action=action, details=_jsonable(details or {})
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- Sign-up and review ----------------------------------------------------------------------


def merchant_apply(
    *,
    applicant: Any,
    legal_name: str,
    display_name: str,
    organisation_number: str,
    country: str,
    category_code: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    currency: str = "",
) -> Merchant:
    """A business applies to become a partner; the applicant becomes its owner. Status: pending review.

    ``currency`` defaults from the country. Raises a domain error for a bad or already registered
    organisation number, an unknown country or a currency not offered in that country.
    """
    country = validate_country(country)
    number = validate_organisation_number(organisation_number, country=country)
    currency = validate_currency(currency, country=country)
    category_code = validate_category_code(category_code)
    if Merchant.objects.filter(country=country, organisation_number=number).exists():
        raise _duplicate_org_number()
    try:
        with transaction.atomic():
            merchant = Merchant.objects.create(
                legal_name=legal_name.strip(),
                display_name=display_name.strip(),
                organisation_number=number,
                country=country,
                currency=currency,
                category_code=category_code,
                contact_name=contact_name.strip(),
                contact_email=contact_email.strip(),
                contact_phone=contact_phone.strip(),
                applied_by=applicant,
            )
            Membership.objects.create(merchant=merchant, user=applicant, role=Membership.Role.OWNER)
            audit_record(
                merchant=merchant,
                actor=applicant,
                action=AuditAction.MERCHANT_APPLIED,
                details={"organisation_number": number, "country": country},
            )
    except IntegrityError as error:
        # Two applications for the same number at once: the unique constraint decided.
        raise _duplicate_org_number() from error
    return merchant


def _duplicate_org_number() -> DuplicateOrganisationNumberError:
    message = DuplicateOrganisationNumberError.default_message
    return DuplicateOrganisationNumberError(message, fields={"organisation_number": [message]})


def _locked(merchant: Merchant) -> Merchant:
    return Merchant.objects.select_for_update().get(pk=merchant.pk)


def _require_status(merchant: Merchant, *allowed: str, doing: str) -> None:
    if merchant.status not in allowed:
        raise InvalidStatusTransitionError(
            f"Cannot {doing} a merchant that is {merchant.get_status_display().lower()}."
        )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequiredError(fields={"reason": [ReasonRequiredError.default_message]})
    return reason


def _refresh_into(target: Merchant, source: Merchant) -> Merchant:
    for field in ("status", "status_reason", "reviewed_at", "approved_at", "suspended_at", "updated_at"):
        setattr(target, field, getattr(source, field))
    return target


def _notify_merchant(merchant: Merchant, *, template: str, subject: str) -> None:
    """E-mail the merchant's contact about a review decision, once the decision is committed."""
    context = {
        "merchant": merchant,
        "portal_url": settings.SITE_URL.rstrip("/")
        + reverse("merchants:dashboard", kwargs={"merchant_id": merchant.pk}),
    }
    message = render_to_string(f"merchants/email/{template}.txt", context)
    transaction.on_commit(
        lambda: send_mail(subject=subject, message=message, from_email=None, recipient_list=[merchant.contact_email])
    )


def merchant_approve(*, merchant: Merchant, actor: Any) -> Merchant:
    """Staff approve a pending application and the merchant's ledger accounts (funding and
    receivable, in its currency) are opened. Approving twice is an error and opens nothing new."""
    with transaction.atomic():
        locked = _locked(merchant)
        _require_status(locked, Merchant.Status.PENDING_REVIEW, doing="approve")
        now = timezone.now()
        locked.status = Merchant.Status.APPROVED
        locked.status_reason = ""
        locked.reviewed_at = locked.approved_at = now
        locked.save(update_fields=["status", "status_reason", "reviewed_at", "approved_at", "updated_at"])
        accounts = [
            account_get_or_create(kind=kind, currency=locked.currency, owner_key=locked.ledger_owner_key)
            for kind in (AccountKind.MERCHANT_FUNDING, AccountKind.MERCHANT_RECEIVABLE)
        ]
        audit_record(
            merchant=locked,
            actor=actor,
            action=AuditAction.MERCHANT_APPROVED,
            details={"ledger_accounts": [account.pk for account in accounts], "currency": locked.currency},
        )
        _notify_merchant(locked, template="approved", subject=f"{locked.display_name} is approved on Cashback")
        announce("merchant_approved", merchant_id=locked.pk)
    return _refresh_into(merchant, locked)


def merchant_reject(*, merchant: Merchant, actor: Any, reason: str) -> Merchant:
    """Staff reject a pending application; the reason is shown to the applicant."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = _locked(merchant)
        _require_status(locked, Merchant.Status.PENDING_REVIEW, doing="reject")
        locked.status = Merchant.Status.REJECTED
        locked.status_reason = reason
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "reviewed_at", "updated_at"])
        audit_record(merchant=locked, actor=actor, action=AuditAction.MERCHANT_REJECTED, details={"reason": reason})
        _notify_merchant(locked, template="rejected", subject=f"Your Cashback application for {locked.display_name}")
    return _refresh_into(merchant, locked)


def merchant_suspend(*, merchant: Merchant, actor: Any, reason: str) -> Merchant:
    """Staff suspend an approved merchant: from now on its purchases earn no new rewards."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = _locked(merchant)
        _require_status(locked, Merchant.Status.APPROVED, doing="suspend")
        locked.status = Merchant.Status.SUSPENDED
        locked.status_reason = reason
        locked.suspended_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "suspended_at", "updated_at"])
        audit_record(merchant=locked, actor=actor, action=AuditAction.MERCHANT_SUSPENDED, details={"reason": reason})
        _notify_merchant(locked, template="suspended", subject=f"{locked.display_name} is suspended on Cashback")
    return _refresh_into(merchant, locked)


def merchant_reinstate(*, merchant: Merchant, actor: Any, note: str = "") -> Merchant:
    """Staff lift a suspension: the merchant is approved again."""
    with transaction.atomic():
        locked = _locked(merchant)
        _require_status(locked, Merchant.Status.SUSPENDED, doing="reinstate")
        previous_reason = locked.status_reason
        locked.status = Merchant.Status.APPROVED
        locked.status_reason = ""
        locked.suspended_at = None
        locked.save(update_fields=["status", "status_reason", "suspended_at", "updated_at"])
        audit_record(
            merchant=locked,
            actor=actor,
            action=AuditAction.MERCHANT_REINSTATED,
            details={"note": note.strip(), "suspension_reason": previous_reason},
        )
        _notify_merchant(locked, template="approved", subject=f"{locked.display_name} is active again on Cashback")
    return _refresh_into(merchant, locked)


SETTINGS_FIELDS = ("display_name", "contact_name", "contact_email", "contact_phone")


def merchant_update_settings(
    *, merchant: Merchant, actor: Any, display_name: str, contact_name: str, contact_email: str, contact_phone: str
) -> Merchant:
    """The merchant's team changes its public name and contact details (owners and managers)."""
    new = {
        "display_name": display_name.strip(),
        "contact_name": contact_name.strip(),
        "contact_email": contact_email.strip(),
        "contact_phone": contact_phone.strip(),
    }
    with transaction.atomic():
        locked = _locked(merchant)
        changes = {
            field: {"from": getattr(locked, field), "to": value}
            for field, value in new.items()
            if getattr(locked, field) != value
        }
        if not changes:
            return merchant
        for field, value in new.items():
            setattr(locked, field, value)
            setattr(merchant, field, value)
        locked.save(update_fields=[*new, "updated_at"])
        audit_record(
            merchant=locked, actor=actor, action=AuditAction.MERCHANT_SETTINGS_CHANGED, details={"changes": changes}
        )
    return merchant


# --- Team ------------------------------------------------------------------------------------


def _validate_role(role: str) -> str:
    if role not in Membership.Role.values:
        raise InvalidRoleError(fields={"role": [InvalidRoleError.default_message]})
    return role


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_send(*, merchant: Merchant, actor: Any, email: str, role: str) -> tuple[Invitation, str]:
    """An owner invites someone by e-mail. Returns the invitation and its token (only e-mailed, stored hashed).

    An earlier open invitation to the same address is withdrawn. The e-mail goes out after commit.
    """
    role = _validate_role(role)
    email = email.strip()
    if merchant.memberships.filter(user__email__iexact=email).exists():
        message = "This person is already a member of the team."
        raise AlreadyMemberError(message, fields={"email": [message]})
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        merchant.invitations.filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now, updated_at=now
        )
        invitation = Invitation.objects.create(
            merchant=merchant,
            email=email,
            role=role,
            token_hash=_token_hash(token),
            invited_by=actor,
            created_at=now,
            expires_at=now + INVITATION_VALIDITY,
        )
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.INVITATION_SENT,
            details={"email": email, "role": role, "invitation": invitation.pk},
        )
        transaction.on_commit(lambda: _send_invitation_email(invitation=invitation, token=token))
    return invitation, token


def invitation_accept_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("merchants:invitation_accept", kwargs={"token": token})


def _send_invitation_email(*, invitation: Invitation, token: str) -> None:
    context = {
        "invitation": invitation,
        "merchant": invitation.merchant,
        "accept_url": invitation_accept_url(token),
        "inviter": invitation.invited_by,
    }
    send_mail(
        subject=f"You are invited to {invitation.merchant.display_name} on Cashback",
        message=render_to_string("merchants/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_by_token(*, token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("merchant", "invited_by").filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None:
        raise InvitationNotFoundError()
    return invitation


def invitation_check(*, invitation: Invitation, user: Any, now: Any = None) -> None:
    """Raise the reason this user cannot accept this invitation now, if there is one."""
    now = now or timezone.now()
    if invitation.accepted_at is not None:
        raise InvitationUsedError()
    if invitation.revoked_at is not None:
        raise InvitationRevokedError()
    if invitation.expires_at <= now:
        raise InvitationExpiredError()
    if not user.email or user.email.casefold() != invitation.email.casefold():
        raise InvitationWrongEmailError(
            f"This invitation was sent to {invitation.email}. Log in with that address to accept it."
        )


def invitation_accept(*, token: str, user: Any) -> Membership:
    """The invited person, logged in with the invited e-mail address, joins the team with the role."""
    with transaction.atomic():
        invitation = invitation_by_token(token=token)
        invitation = Invitation.objects.select_for_update().select_related("merchant").get(pk=invitation.pk)
        invitation_check(invitation=invitation, user=user)
        if Membership.objects.filter(merchant=invitation.merchant, user=user).exists():
            raise AlreadyMemberError("You are already a member of this merchant's team.")
        membership = Membership.objects.create(merchant=invitation.merchant, user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        audit_record(
            merchant=invitation.merchant,
            actor=user,
            action=AuditAction.INVITATION_ACCEPTED,
            details={"email": invitation.email, "role": invitation.role, "invitation": invitation.pk},
        )
    return membership


def invitation_revoke(*, invitation: Invitation, actor: Any) -> Invitation:
    """An owner withdraws an invitation that has not been accepted."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise InvitationUsedError()
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                merchant=locked.merchant,
                actor=actor,
                action=AuditAction.INVITATION_REVOKED,
                details={"email": locked.email, "invitation": locked.pk},
            )
    return locked


def _lock_owners(merchant: Merchant) -> list[Membership]:
    """Lock the merchant's owner memberships (in id order) so two owners cannot demote each other at once."""
    return list(
        Membership.objects.select_for_update().filter(merchant=merchant, role=Membership.Role.OWNER).order_by("pk")
    )


def membership_change_role(*, membership: Membership, actor: Any, role: str) -> Membership:
    """An owner changes a member's role. The last owner cannot be demoted."""
    role = _validate_role(role)
    with transaction.atomic():
        owners = _lock_owners(membership.merchant)
        locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        if locked.role == role:
            return locked
        if locked.role == Membership.Role.OWNER and len(owners) <= 1:
            raise LastOwnerError(fields={"role": [LastOwnerError.default_message]})
        previous = locked.role
        locked.role = role
        locked.save(update_fields=["role", "updated_at"])
        audit_record(
            merchant=locked.merchant,
            actor=actor,
            action=AuditAction.MEMBER_ROLE_CHANGED,
            details={"member": str(locked.user), "user": locked.user_id, "from": previous, "to": role},
        )
    membership.role = role
    return locked


def membership_remove(*, membership: Membership, actor: Any) -> None:
    """An owner removes a member from the team. The last owner cannot be removed."""
    with transaction.atomic():
        owners = _lock_owners(membership.merchant)
        locked = Membership.objects.select_for_update().select_related("user").filter(pk=membership.pk).first()
        if locked is None:
            return
        if locked.role == Membership.Role.OWNER and len(owners) <= 1:
            raise LastOwnerError()
        audit_record(
            merchant=locked.merchant,
            actor=actor,
            action=AuditAction.MEMBER_REMOVED,
            details={"member": str(locked.user), "user": locked.user_id, "role": locked.role},
        )
        locked.delete()


# --- Locations -------------------------------------------------------------------------------

ADDRESS_FIELDS = ("street", "postcode", "city", "country")
LOCATION_FIELDS = (
    "name",
    *ADDRESS_FIELDS,
    "latitude",
    "longitude",
    "time_zone",
    "opening_hours",
    "network_merchant_id",
    "network_store_id",
)


def _validate_coordinates(latitude: Decimal | None, longitude: Decimal | None) -> Coordinates | None:
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None or not (-90 <= latitude <= 90) or not (-180 <= longitude <= 180):
        raise InvalidCoordinatesError(fields={"latitude": [InvalidCoordinatesError.default_message]})
    return Coordinates.of(latitude, longitude)


def _validate_network_ids(*, merchant_id: str, store_id: str, exclude_pk: int | None) -> tuple[str, str]:
    merchant_id, store_id = merchant_id.strip(), store_id.strip()
    if bool(merchant_id) != bool(store_id):
        raise InvalidNetworkIdsError(
            fields={
                "network_store_id" if merchant_id else "network_merchant_id": [InvalidNetworkIdsError.default_message]
            }
        )
    if merchant_id:
        clash = Location.objects.filter(network_merchant_id=merchant_id, network_store_id=store_id)
        if exclude_pk is not None:
            clash = clash.exclude(pk=exclude_pk)
        if clash.exists():
            raise _duplicate_network_ids()
    return merchant_id, store_id


def _duplicate_network_ids() -> DuplicateNetworkIdsError:
    message = DuplicateNetworkIdsError.default_message
    return DuplicateNetworkIdsError(message, fields={"network_store_id": [message]})


def _geocode(*, street: str, postcode: str, city: str, country: str) -> Coordinates | None:
    return get_geocoder().geocode(street=street, postcode=postcode, city=city, country=country)


def _save_location(location: Location) -> None:
    try:
        with transaction.atomic():
            location.save()
    except IntegrityError as error:
        # Only the network-id pair is unique; the check before was overtaken by a concurrent save.
        raise _duplicate_network_ids() from error


def location_create(
    *,
    merchant: Merchant,
    actor: Any,
    name: str,
    street: str,
    postcode: str,
    city: str,
    country: str,
    time_zone: str = "Europe/Oslo",
    opening_hours: dict | None = None,
    network_merchant_id: str = "",
    network_store_id: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Location:
    """Add a shop. Coordinates given by hand win; otherwise the address is geocoded, and a failed
    lookup leaves the shop without a map position (flagged in lists) rather than failing."""
    country = validate_country(country)
    time_zone = validate_time_zone(time_zone)
    opening_hours = validate_opening_hours(opening_hours or {})
    coordinates = _validate_coordinates(latitude, longitude)
    network_merchant_id, network_store_id = _validate_network_ids(
        merchant_id=network_merchant_id, store_id=network_store_id, exclude_pk=None
    )
    address = {"street": street.strip(), "postcode": postcode.strip(), "city": city.strip(), "country": country}
    geocoded = coordinates is None
    if geocoded:
        coordinates = _geocode(**address)
    location = Location(
        merchant=merchant,
        name=name.strip(),
        **address,
        latitude=coordinates.latitude if coordinates else None,
        longitude=coordinates.longitude if coordinates else None,
        time_zone=time_zone,
        opening_hours=opening_hours,
        network_merchant_id=network_merchant_id,
        network_store_id=network_store_id,
    )
    with transaction.atomic():
        _save_location(location)
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.LOCATION_CREATED,
            details={
                "location": location.pk,
                "name": location.name,
                "position": "geocoded" if geocoded and coordinates else "manual" if coordinates else "missing",
            },
        )
        if location.network_merchant_id:
            announce("location_registered", location_id=location.pk, merchant_id=merchant.pk)
    return location


def location_update(
    *,
    location: Location,
    actor: Any,
    name: str,
    street: str,
    postcode: str,
    city: str,
    country: str,
    time_zone: str,
    opening_hours: dict | None,
    network_merchant_id: str,
    network_store_id: str,
    latitude: Decimal | None,
    longitude: Decimal | None,
) -> Location:
    """Change a shop. Coordinates changed by hand win; otherwise an address change is geocoded again
    (no result: the shop loses its now wrong map position)."""
    country = validate_country(country)
    time_zone = validate_time_zone(time_zone)
    opening_hours = validate_opening_hours(opening_hours or {})
    coordinates = _validate_coordinates(latitude, longitude)
    network_merchant_id, network_store_id = _validate_network_ids(
        merchant_id=network_merchant_id, store_id=network_store_id, exclude_pk=location.pk
    )
    address = {"street": street.strip(), "postcode": postcode.strip(), "city": city.strip(), "country": country}
    stored = Coordinates.of(location.latitude, location.longitude) if location.has_map_position else None
    address_changed = any(getattr(location, field) != value for field, value in address.items())
    if coordinates == stored and address_changed:
        coordinates = _geocode(**address)
    new = {
        "name": name.strip(),
        **address,
        "latitude": coordinates.latitude if coordinates else None,
        "longitude": coordinates.longitude if coordinates else None,
        "time_zone": time_zone,
        "opening_hours": opening_hours,
        "network_merchant_id": network_merchant_id,
        "network_store_id": network_store_id,
    }
    changes = {
        field: {"from": getattr(location, field), "to": value}
        for field, value in new.items()
        if getattr(location, field) != value
    }
    if not changes:
        return location
    with transaction.atomic():
        locked = Location.objects.select_for_update().get(pk=location.pk)
        for field, value in new.items():
            setattr(locked, field, value)
        _save_location(locked)
        audit_record(
            merchant=locked.merchant,
            actor=actor,
            action=AuditAction.LOCATION_UPDATED,
            details={"location": locked.pk, "name": locked.name, "changes": changes},
        )
        if locked.network_merchant_id and ({"network_merchant_id", "network_store_id"} & changes.keys()):
            announce("location_registered", location_id=locked.pk, merchant_id=locked.merchant_id)
    for field, value in new.items():
        setattr(location, field, value)
    return location


def location_delete(*, location: Location, actor: Any) -> None:
    """Delete a shop that nothing refers to (purchases and offers keep theirs: then it cannot go)."""
    try:
        with transaction.atomic():
            audit_record(
                merchant=location.merchant,
                actor=actor,
                action=AuditAction.LOCATION_DELETED,
                details={
                    "location": location.pk,
                    "name": location.name,
                    "network_ids": [
                        location.network_merchant_id,
                        location.network_store_id,
                    ],
                },
            )
            location.delete()
    except (ProtectedError, RestrictedError) as error:
        raise LocationInUseError() from error


# --- Partner API keys ---------------------------------------------------------------------------

API_KEY_PREFIX = "mk_live_"
# Characters of the plaintext kept in ``MerchantApiKey.prefix`` to tell keys apart in lists: the
# fixed prefix plus 6 random characters (36 bits: says which key, reveals nothing usable).
API_KEY_SHOWN_CHARACTERS = len(API_KEY_PREFIX) + 6
MAX_ACTIVE_API_KEYS = 20


def api_key_hash(plaintext: str) -> str:
    """The SHA-256 hex digest stored for a key. Keys have 256 random bits, so a plain hash is enough
    (no slow KDF needed), and looking a key up by its hash compares no secret byte by byte."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_key_create(*, merchant: Merchant, actor: Any, name: str) -> tuple[MerchantApiKey, str]:
    """A new partner API key for ``merchant``. Returns the key and its plaintext, which is shown to
    the owner once and never stored. At most ``MAX_ACTIVE_API_KEYS`` active keys per merchant."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidApiKeyNameError(fields={"name": [InvalidApiKeyNameError.default_message]})
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        _locked(merchant)  # serialises key creation per merchant so the limit holds
        if MerchantApiKey.objects.filter(merchant=merchant, revoked_at__isnull=True).count() >= MAX_ACTIVE_API_KEYS:
            raise TooManyApiKeysError()
        key = MerchantApiKey.objects.create(
            merchant=merchant,
            name=name,
            prefix=plaintext[:API_KEY_SHOWN_CHARACTERS],
            secret_hash=api_key_hash(plaintext),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.API_KEY_CREATED,
            details={"key_id": key.pk, "name": name, "prefix": key.prefix},
        )
    return key, plaintext


def api_key_revoke(*, key_id: int, merchant: Merchant, actor: Any) -> MerchantApiKey:
    """Revoke one of ``merchant``'s keys: from now on it is refused (401). Revoking a revoked key
    changes nothing. A key of another merchant is "not found"."""
    with transaction.atomic():
        key = MerchantApiKey.objects.select_for_update().filter(pk=key_id, merchant=merchant).first()
        if key is None:
            raise ApiKeyNotFoundError()
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
        key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.API_KEY_REVOKED,
            details={"key_id": key.pk, "name": key.name, "prefix": key.prefix},
        )
    return key


# --- Customers of a merchant (partner API references, Stripe customers) ------------------------


def customer_link_save(
    *, merchant: Merchant, source: str, external_id: str, user: Any, via: str, replace: bool = False
) -> CustomerLink:
    """Link the merchant's customer id to a consumer. An existing link to someone else is kept unless
    ``replace`` (the merchant's explicit instruction through the partner API). Safe to call twice."""
    with transaction.atomic():
        CustomerLink.objects.bulk_create(
            [CustomerLink(merchant=merchant, source=source, external_id=external_id, user=user, via=via)],
            ignore_conflicts=True,
        )
        link = CustomerLink.objects.select_for_update().get(merchant=merchant, source=source, external_id=external_id)
        if replace and link.user_id != user.pk:
            link.user = user
            link.via = via
            link.save(update_fields=["user", "via", "updated_at"])
    return link


def customer_match(*, merchant: Merchant, source: str, external_id: str = "", email: str = "") -> Any | None:
    """The consumer a purchase reported by ``merchant`` belongs to, or None.

    A linked customer id wins; otherwise the one active account with that e-mail address, and then
    the id (when given) is linked to it so later purchases with only the id find them too.
    """
    user = customer_link_user(merchant_id=merchant.pk, source=source, external_id=external_id)
    if user is not None:
        return user
    user = consumer_by_email(email=email)
    if user is not None and external_id:
        # Another request may have linked the id first: the stored link decides.
        user = customer_link_save(
            merchant=merchant, source=source, external_id=external_id, user=user, via=CustomerLink.Via.EMAIL_MATCH
        ).user
    return user


# --- Stripe as a purchase source (F-T2) ---------------------------------------------------------


def stripe_refund_delta(*, merchant: Merchant, charge_id: str, amount_refunded_minor: int) -> int:
    """What is newly refunded on a charge whose cumulative ``amount_refunded`` is now given; records
    it. 0 for a duplicate or an older (out-of-order) event. Call inside the transaction that applies
    the refund: the row lock makes concurrent events for one charge take turns."""
    with transaction.atomic():
        StripeChargeRefundTotal.objects.bulk_create(
            [StripeChargeRefundTotal(merchant=merchant, charge_id=charge_id)], ignore_conflicts=True
        )
        total = StripeChargeRefundTotal.objects.select_for_update().get(charge_id=charge_id)
        delta = max(0, amount_refunded_minor - total.refunded_minor)
        if delta:
            total.refunded_minor = amount_refunded_minor
            total.save(update_fields=["refunded_minor", "updated_at"])
    return delta


def stripe_connect_start(*, merchant: Merchant, actor: Any, refresh_url: str, return_url: str) -> str:
    """Start (or resume) connecting the merchant's Stripe account; returns Stripe's onboarding URL.

    The Express account is created once (its idempotency key is derived from the merchant, so a
    retry after a lost response gets the same account) and stored before the link is handed out,
    so events from the account always find the merchant. Reconnecting after a disconnect reuses it.
    """
    gateway = get_stripe_gateway()
    connection = StripeConnection.objects.filter(merchant=merchant).first()
    if connection is None:
        account_id = gateway.connected_account_create(
            email=merchant.contact_email,
            country=merchant.country,
            business_type="company",
            idempotency_key=f"merchant:{merchant.pk}:stripe-connect",
            metadata={"merchant_id": str(merchant.pk), "purpose": "purchases"},
        )
        with transaction.atomic():
            _locked(merchant)  # two owners clicking at once store one connection
            connection, _ = StripeConnection.objects.get_or_create(
                merchant=merchant,
                defaults={
                    "stripe_account_id": account_id,
                    "connected_by": actor if getattr(actor, "is_authenticated", False) else None,
                },
            )
    elif connection.status == StripeConnection.Status.DISCONNECTED:
        StripeConnection.objects.filter(pk=connection.pk).update(
            status=StripeConnection.Status.ONBOARDING, disconnected_at=None, updated_at=timezone.now()
        )
    return gateway.account_link_create(
        account_id=connection.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def stripe_connection_refresh(*, merchant: Merchant, actor: Any = None) -> StripeConnection | None:
    """Read the account's state from Stripe; once its details are submitted it is connected (audited)."""
    connection = StripeConnection.objects.filter(merchant=merchant).first()
    if connection is None or connection.status == StripeConnection.Status.DISCONNECTED:
        return connection
    account = get_stripe_gateway().account_retrieve(account_id=connection.stripe_account_id)
    with transaction.atomic():
        connection = StripeConnection.objects.select_for_update().get(pk=connection.pk)
        connection.charges_enabled = bool(account.get("charges_enabled"))
        connection.details_submitted = bool(account.get("details_submitted"))
        newly_connected = connection.details_submitted and connection.status == StripeConnection.Status.ONBOARDING
        if newly_connected:
            connection.status = StripeConnection.Status.ACTIVE
            connection.connected_at = timezone.now()
        connection.save()
        if newly_connected:
            audit_record(
                merchant=merchant,
                actor=actor,
                action=AuditAction.STRIPE_CONNECTED,
                details={"stripe_account_id": connection.stripe_account_id},
            )
    return connection


def stripe_disconnect(*, merchant: Merchant, actor: Any) -> StripeConnection | None:
    """Stop turning the account's payments into purchases (refunds of earlier ones still count)."""
    with transaction.atomic():
        connection = StripeConnection.objects.select_for_update().filter(merchant=merchant).first()
        if connection is None or connection.status == StripeConnection.Status.DISCONNECTED:
            return connection
        connection.status = StripeConnection.Status.DISCONNECTED
        connection.disconnected_at = timezone.now()
        connection.save(update_fields=["status", "disconnected_at", "updated_at"])
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.STRIPE_DISCONNECTED,
            details={"stripe_account_id": connection.stripe_account_id},
        )
    return connection
