from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification

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
