"""Invitations staff send to a person whose account they created (F-A2): the token, and accepting it.

The token is the invitation's id and a random nonce, signed with SECRET_KEY; the row keeps the
nonce, so neither the table nor the signing key alone opens an account, and a task given the
invitation's id can rebuild the link. An invitation is single-use and expires; accepting sets the
person's password (and, for an SMS invitation, marks their phone number verified: the code reached it).
Sending lives above the accounts app (adminpanel.invitations), where the e-mail outbox and SMS are.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.errors import InvitationExpiredError, InvitationInvalidError
from accounts.models import StaffInvitation, User

VALIDITY = timedelta(days=7)
_SALT = "accounts.staff-invitation"


def invitation_create(*, user: User, channel: str, actor: User | None) -> StaffInvitation:
    """A new invitation for ``user``; earlier open ones stop working (they expire now)."""
    now = timezone.now()
    with transaction.atomic():
        StaffInvitation.objects.filter(user=user, accepted_at__isnull=True, expires_at__gt=now).update(
            expires_at=now, updated_at=now
        )
        return StaffInvitation.objects.create(
            user=user, channel=channel, invited_by=actor, nonce=secrets.token_hex(16), expires_at=now + VALIDITY
        )


def invitation_token(invitation: StaffInvitation) -> str:
    return signing.Signer(salt=_SALT).sign(f"{invitation.pk}.{invitation.nonce}")


def invitation_url(invitation: StaffInvitation) -> str:
    path = reverse("accounts:invitation_accept", kwargs={"token": invitation_token(invitation)})
    return settings.SITE_URL.rstrip("/") + path


def invitation_by_token(*, token: str) -> StaffInvitation:
    """The open invitation behind ``token``: ``InvitationInvalidError`` (404) for a forged or unknown
    token, ``InvitationExpiredError`` (410) for one used or past its expiry."""
    try:
        invitation_id, nonce = signing.Signer(salt=_SALT).unsign(token).split(".", 1)
    except (signing.BadSignature, ValueError):
        raise InvitationInvalidError() from None
    invitation = StaffInvitation.objects.select_related("user").filter(pk=int(invitation_id)).first()
    if invitation is None or not constant_time_compare(invitation.nonce, nonce):
        raise InvitationInvalidError()
    if invitation.accepted_at is not None or invitation.expires_at <= timezone.now():
        raise InvitationExpiredError()
    return invitation


def invitation_accept(*, token: str, password: str) -> User:
    """Set the invited person's password and use up the invitation. Precondition: the door has
    checked the password (the same validators as sign-up); checked again here, never bypassed."""
    with transaction.atomic():
        invitation = invitation_by_token(token=token)
        invitation = StaffInvitation.objects.select_for_update().select_related("user").get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvitationExpiredError()
        user = invitation.user
        validate_password(password, user)
        user.set_password(password)
        fields = ["password", "updated_at"]
        if invitation.channel == StaffInvitation.Channel.SMS and user.phone:
            user.phone_verified = True
            fields.append("phone_verified")
        user.save(update_fields=fields)
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
    return user
