"""Staff create an account for a person and invite them by e-mail or SMS (F-A2).

The account is made without a password; the invitation (accounts.invitations) carries a link with a
single-use, expiring token, and accepting it sets the password. The e-mail goes through the
notifications outbox (its body, which holds the link, is erased once sent); the SMS through a task
given the invitation's id, after commit. Both are audited as ``user.create`` / ``user.invite``.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.invitations import invitation_create, invitation_url
from accounts.models import StaffInvitation, User
from accounts.staff_audit import record_staff_action
from cashback.formatting import person_locale
from cashback.providers.sms import get_sms_client
from notifications.services import email_queue


def _message(invitation: StaffInvitation) -> str:
    """The invitation's text, in the active language (callers write it inside ``person_locale``)."""
    return _("You have a Cashback account. Choose your password here (the link works for 7 days, once): %(url)s") % {
        "url": invitation_url(invitation)
    }


def invitation_send(*, user: User, channel: str, actor: User) -> StaffInvitation:
    """A new invitation for ``user`` by ``channel`` (e-mail needs an address, SMS a phone number:
    the door checks), sent after commit. Earlier open invitations stop working."""
    with transaction.atomic():
        invitation = invitation_create(user=user, channel=channel, actor=actor)
        if channel == StaffInvitation.Channel.EMAIL:
            with person_locale(user):  # the person's language, not the staff member's
                subject, body = _("Your Cashback account"), _message(invitation)
            email_queue(
                key=f"staff-invitation:{invitation.pk}", to=user.email or "", subject=subject, body=body, secret=True
            )
            invitation.sent_at = timezone.now()
            invitation.save(update_fields=["sent_at", "updated_at"])
        else:
            invitation_id = invitation.pk

            def enqueue() -> None:
                from adminpanel.tasks import invitation_sms_send  # a cycle: the task module imports this one

                invitation_sms_send.delay(invitation_id)

            transaction.on_commit(enqueue, robust=True)
        record_staff_action(
            actor=actor,
            action="user.invite",
            target=user,
            summary=f"Invited by {invitation.get_channel_display()}",
            after={"channel": channel, "invitation": invitation.pk, "expires_at": invitation.expires_at},
        )
    return invitation


def invitation_sms_deliver(*, invitation_id: int) -> bool:
    """Send the SMS of one invitation, once (a second run finds it sent); False if nothing was sent."""
    with transaction.atomic():
        invitation = StaffInvitation.objects.select_for_update().select_related("user").filter(pk=invitation_id).first()
        if invitation is None or invitation.sent_at is not None or invitation.accepted_at is not None:
            return False
        if not invitation.user.phone or invitation.expires_at <= timezone.now():
            return False
        with person_locale(invitation.user):
            body = _message(invitation)
        get_sms_client().send(to=invitation.user.phone, body=body)
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at", "updated_at"])
    return True


def person_create(*, email: str | None, phone: str | None, full_name: str, channel: str, actor: User) -> User:
    """Create a person's account (no password yet) and invite them. Precondition: the form checked
    that the address or number is given for the channel and not taken."""
    with transaction.atomic():
        user = User.objects.create_user(email=email or None, password=None, phone=phone or None, full_name=full_name)
        record_staff_action(
            actor=actor,
            action="user.create",
            target=user,
            summary="Created an account for a person",
            after={"email_given": bool(email), "phone_given": bool(phone)},
        )
        invitation_send(user=user, channel=channel, actor=actor)
    return user
