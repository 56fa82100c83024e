"""The team: invitations by e-mail (sent through notifications after commit), memberships and roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from merchants.errors import (
    AlreadyMemberError,
    InvalidRoleError,
    InvitationExpiredError,
    InvitationNotFoundError,
    InvitationRevokedError,
    InvitationUsedError,
    InvitationWrongEmailError,
    LastOwnerError,
)
from merchants.models import (
    Invitation,
    Membership,
    Merchant,
)
from merchants.services.audit import AuditAction, audit_record
from notifications.services import email_queue

if TYPE_CHECKING:
    from accounts.models import User

INVITATION_VALIDITY = timedelta(days=14)


# --- Team ------------------------------------------------------------------------------------


def _validate_role(role: str) -> str:
    if role not in Membership.Role.values:
        raise InvalidRoleError(fields={"role": [InvalidRoleError.default_message]})
    return role


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_send(*, merchant: Merchant, actor: User, email: str, role: str) -> tuple[Invitation, str]:
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
        _queue_invitation_email(invitation=invitation, token=token)
    return invitation, token


def invitation_accept_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("merchants:invitation_accept", kwargs={"token": token})


def _queue_invitation_email(*, invitation: Invitation, token: str) -> None:
    """E-mail the invitation through notifications after commit: once per invitation, retried if the
    mail server fails. The body holds the token (stored only hashed here), so it is erased once sent."""
    context = {
        "invitation": invitation,
        "merchant": invitation.merchant,
        "accept_url": invitation_accept_url(token),
        "inviter": invitation.invited_by,
    }
    with translation.override(_invitee_language(invitation)):
        subject = _("You are invited to %(name)s on Cashback") % {"name": invitation.merchant.display_name}
        body = render_to_string("merchants/email/invitation.txt", context)
    email_queue(
        key=f"merchant-invitation:{invitation.pk}", to=invitation.email, subject=subject, body=body, secret=True
    )


def _invitee_language(invitation: Invitation) -> str:
    """The invitee's own profile language when they already have an account, else the merchant's."""
    user = get_user_model().objects.filter(email__iexact=invitation.email).only("language").first()
    return getattr(user, "language", "") or invitation.merchant.email_language


def invitation_by_token(*, token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("merchant", "invited_by").filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None:
        raise InvitationNotFoundError()
    return invitation


def invitation_check(*, invitation: Invitation, user: User, now: Any = None) -> None:
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
            _("This invitation was sent to %(email)s. Log in with that address to accept it.")
            % {"email": invitation.email}
        )


def invitation_accept(*, token: str, user: User) -> Membership:
    """The invited person, logged in with the invited e-mail address, joins the team with the role."""
    with transaction.atomic():
        invitation = invitation_by_token(token=token)
        invitation = Invitation.objects.select_for_update().select_related("merchant").get(pk=invitation.pk)
        invitation_check(invitation=invitation, user=user)
        if Membership.objects.filter(merchant=invitation.merchant, user=user).exists():
            raise AlreadyMemberError(_("You are already a member of this merchant's team."))
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


def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
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


def membership_change_role(*, membership: Membership, actor: User, role: str) -> Membership:
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


def membership_remove(*, membership: Membership, actor: User) -> None:
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
