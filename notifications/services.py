from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from cashback.backoff import retry_delay
from notifications.models import Notification, OutgoingEmail

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from accounts.models import User


def notification_send(
    *, user: User, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str | None = None
) -> Notification:
    """Put a message in the user's inbox and e-mail it after commit.

    With ``dedupe_key`` the message is sent once per user and key: a replay returns the first one.
    """
    with transaction.atomic():
        if dedupe_key is not None:
            notification, created = Notification.objects.get_or_create(
                user=user,
                dedupe_key=dedupe_key,
                defaults={"kind": kind, "title": title, "body": body, "url": url},
            )
        else:
            notification, created = (
                Notification.objects.create(user=user, kind=kind, title=title, body=body, url=url),
                True,
            )
        if created and user.email:
            notification_id = notification.pk
            transaction.on_commit(lambda: _enqueue_email(notification_id))
    return notification


def _enqueue_email(notification_id: int) -> None:
    # Imported here: notifications.tasks imports this module (a cycle within the app).
    from notifications.tasks import notification_email

    notification_email.delay(notification_id)


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one notification once; returns whether a message went out now."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("user").filter(pk=notification_id).first()
        )
        if notification is None or notification.emailed_at is not None or not notification.user.email:
            return False
        body = notification.body
        if notification.url:
            body = f"{body}\n\n{settings.SITE_URL.rstrip('/')}{notification.url}"
        send_mail(notification.title, body, None, [notification.user.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at", "updated_at"])
    return True


def notifications_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now(), updated_at=timezone.now())


# --- E-mails to addresses (merchant contacts, invitees) -------------------------------------------


def email_queue(*, key: str, to: str, subject: str, body: str, secret: bool = False) -> OutgoingEmail:
    """Queue one e-mail in the caller's transaction; a task sends it after commit.

    Once per ``key``: queueing it again returns the first one and sends nothing more. ``secret``
    marks a body that carries a secret (an invitation link), erased once the mail is sent.
    """
    with transaction.atomic():
        email, created = OutgoingEmail.objects.get_or_create(
            key=key, defaults={"to": to, "subject": subject, "body": body, "secret": secret}
        )
        if created:
            _enqueue_outgoing_on_commit([email.pk])
    return email


def _enqueue_outgoing_on_commit(email_ids: list[int]) -> None:
    def enqueue_outgoing_emails() -> None:
        # Imported here: notifications.tasks imports this module (a cycle within the app).
        from notifications.tasks import outgoing_email_send

        for email_id in email_ids:
            outgoing_email_send.delay(email_id)

    # robust: a broker that is down must not turn the committed change into an error; the sweep
    # enqueues the mail again.
    transaction.on_commit(enqueue_outgoing_emails, robust=True)


def outgoing_email_send(*, email_id: int) -> bool:
    """Send one queued e-mail unless it was sent; returns whether a message went out now.

    Safe to run twice and concurrently: the row is locked while sending, and a sent mail is left
    alone. An SMTP or connection error is recorded and the next attempt scheduled (up to
    NOTIFICATIONS_EMAIL_MAX_ATTEMPTS); it is not raised, so the task itself succeeds.
    """
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.sent_at is not None:
            return False
        now = timezone.now()
        email.attempts += 1
        try:
            send_mail(email.subject, email.body, None, [email.to])
        except (smtplib.SMTPException, OSError) as error:
            logger.warning("e-mail %s (%s) failed on attempt %s: %r", email.pk, email.key, email.attempts, error)
            email.last_error = repr(error)[:2000]
            email.next_attempt_at = (
                now + retry_delay(email.attempts)
                if email.attempts < settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS
                else None
            )
            email.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
            return False
        email.sent_at = now
        email.next_attempt_at = None
        if email.secret:
            email.body = ""
        email.save(update_fields=["attempts", "sent_at", "next_attempt_at", "body", "updated_at"])
    return True


def outgoing_emails_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue unsent e-mails whose backoff has passed, and those never tried whose task was lost
    (older than NOTIFICATIONS_EMAIL_STALE_SECONDS). Each is left alone for the stale window while it
    waits in the queue. Returns how many were enqueued."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.NOTIFICATIONS_EMAIL_STALE_SECONDS)
    unsent = OutgoingEmail.objects.filter(sent_at__isnull=True, attempts__lt=settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS)
    retry = unsent.filter(attempts__gt=0, next_attempt_at__lte=now)
    lost = unsent.filter(attempts=0, created_at__lte=now - stale)
    lost = lost.filter(next_attempt_at__isnull=True) | lost.filter(next_attempt_at__lte=now)
    pks = list((retry | lost).order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    if not pks:
        return 0
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk__in=pks).update(next_attempt_at=now + stale, updated_at=now)
        _enqueue_outgoing_on_commit(pks)
    return len(pks)
