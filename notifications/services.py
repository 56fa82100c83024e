from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from accounts.services import location_consent_set, marketing_consent_set
from cashback.backoff import retry_delay
from cashback.formatting import person_locale
from cashback.providers.delivery import ProviderPermanentError, ProviderTemporaryError
from notifications import channels, selectors
from notifications.kinds import EXTERNAL_CHANNELS, KINDS, QUIET_CHANNELS, Channel
from notifications.models import Delivery, DeliveryStatus, Notification, OutgoingEmail, Preference, QuietHours

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from accounts.models import User


def notification_send(
    *,
    user: User,
    kind: str,
    title: str = "",
    body: str = "",
    url: str = "",
    dedupe_key: str | None = None,
    context: dict[str, Any] | None = None,
    channels: frozenset[str] | None = None,
    preferences_checked: bool = False,
    deliver_here: bool = False,
) -> Notification:
    """Put a message in the user's inbox and deliver it on the channels their preferences allow.

    A kind of ``notifications.kinds.KINDS`` is written from its templates and ``context`` (``title``
    and ``body`` then override the inbox's words when given). ``channels`` narrows the
    person's channels (geofencing sends push only); ``preferences_checked`` says the caller already
    read the person's choice for exactly ``channels`` (geofencing's one query), so it is not read again.
    With ``dedupe_key`` the message is created once per
    user and key (a database constraint): a replay returns the first and delivers nothing more.
    Each external channel gets one ``Delivery`` row, sent by a task after commit: nothing here
    talks to a provider, so a provider being down never touches the caller's transaction.
    ``deliver_here``: the caller is itself a task on the ``notifications`` queue (geofencing's nearby
    push), so the deliveries are attempted in this process after commit rather than enqueued as tasks
    of their own; one that does not get its attempt (the process dies) is picked up by the sweep.
    """
    context = dict(context or {})
    spec = KINDS.get(kind)
    if spec is not None:
        with person_locale(user):  # the inbox's words are kept as written, in the person's language
            message = spec.render(Channel.INBOX, context)
        title, body, url = title or message.title, body or message.body, url or spec.url
    if preferences_checked and channels is not None:
        wanted = channels
    else:
        wanted = selectors.channels_for(user=user, kind=kind)
        if channels is not None:
            wanted = wanted & channels
    fields = {"kind": kind, "title": title[:160], "body": body, "url": url, "context": context}
    # No savepoint of its own: nothing here catches an error, so a failure rolls back with the caller.
    with transaction.atomic(savepoint=False):
        if dedupe_key is not None:
            notification, created = _create_once(
                user=user, dedupe_key=dedupe_key, fields={**fields, "in_inbox": Channel.INBOX in wanted}
            )
        else:
            notification = Notification.objects.create(user=user, **fields, in_inbox=Channel.INBOX in wanted)
            created = True
        if created:
            reachable = {Channel.EMAIL: bool(user.email), Channel.SMS: bool(user.phone), Channel.PUSH: True}
            deliveries = Delivery.objects.bulk_create(
                [
                    Delivery(notification=notification, channel=channel)
                    for channel in EXTERNAL_CHANNELS
                    if channel in wanted and reachable[channel]
                ]
            )
            if deliver_here:
                _attempt_deliveries_on_commit([delivery.pk for delivery in deliveries])
            else:
                _enqueue_deliveries_on_commit([delivery.pk for delivery in deliveries])
    return notification


def _create_once(*, user: User, dedupe_key: str, fields: dict[str, Any]) -> tuple[Notification, bool]:
    """The user's notification with ``dedupe_key``, created now unless it exists; and whether it was.

    On PostgreSQL one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (a SELECT only for a replay), where
    ``get_or_create`` takes a SELECT and a savepoint around its INSERT: geofence reports count their
    round trips. Of concurrent callers the unique constraint lets one insert; the others read its row.
    """
    if connection.vendor != "postgresql":
        return Notification.objects.get_or_create(user=user, dedupe_key=dedupe_key, defaults=fields)
    notification = Notification(user=user, dedupe_key=dedupe_key, **fields)
    columns = [field for field in Notification._meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(field.pre_save(notification, True), connection) for field in columns]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Notification._meta.db_table)} ({', '.join(quote(str(field.column)) for field in columns)})"  # noqa: S608 - names from the model
        f" VALUES ({', '.join(['%s'] * len(columns))})"
        " ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return Notification.objects.get(user=user, dedupe_key=dedupe_key), False
    notification.pk = row[0]
    notification._state.adding = False
    notification._state.db = connection.alias
    return notification, True


def _enqueue_deliveries_on_commit(delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return

    def enqueue_deliveries() -> None:
        # Imported here: notifications.tasks imports this module (a cycle within the app).
        from notifications.tasks import notification_deliver

        for delivery_id in delivery_ids:
            notification_deliver.delay(delivery_id)

    # robust: a broker that is down must not turn the committed change into an error; the sweep
    # (deliveries_due) enqueues the deliveries again.
    transaction.on_commit(enqueue_deliveries, robust=True)


def _attempt_deliveries_on_commit(delivery_ids: list[int]) -> None:
    def attempt_deliveries() -> None:
        for delivery_id in delivery_ids:
            delivery_attempt(delivery_id=delivery_id)

    # robust: the notification and its deliveries are committed; a delivery not attempted now stays
    # pending and the sweep (deliveries_due) enqueues it once it is stale.
    transaction.on_commit(attempt_deliveries, robust=True)


@dataclass(frozen=True)
class Attempt:
    status: str
    # When a pending delivery is due again (a temporary error, quiet hours); None otherwise.
    next_attempt_at: datetime | None = None


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> Attempt:
    """Send one channel of one notification unless it was sent or given up; safe to run twice.

    The delivery row is locked while sending, so two workers never both send it. Push and SMS wait
    for the end of the person's quiet hours. A provider's temporary error keeps it pending with the
    next attempt scheduled (up to NOTIFICATIONS_CHANNEL_MAX_ATTEMPTS, then failed); a permanent
    one fails it. Nothing is raised: the outcome is recorded on the row.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification__user")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return Attempt("missing")
        if delivery.status != DeliveryStatus.PENDING:
            return Attempt(delivery.status)
        user = delivery.notification.user
        if delivery.channel in QUIET_CHANNELS:
            quiet_until = selectors.quiet_hours_end(user=user, at=now)
            if quiet_until is not None:
                delivery.next_attempt_at = quiet_until
                delivery.save(update_fields=["next_attempt_at", "updated_at"])
                return Attempt(delivery.status, quiet_until)
        delivery.attempts += 1
        try:
            with person_locale(user):
                sent = channels.channel_send(delivery=delivery)
        except ProviderTemporaryError as error:
            logger.warning("notification delivery %s failed on attempt %s: %s", delivery.pk, delivery.attempts, error)
            delivery.last_error = str(error)[:2000]
            if delivery.attempts < settings.NOTIFICATIONS_CHANNEL_MAX_ATTEMPTS:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            else:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
        except ProviderPermanentError as error:
            logger.info("notification delivery %s failed for good: %s", delivery.pk, error)
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = str(error)[:2000]
            delivery.next_attempt_at = None
        else:
            delivery.status = DeliveryStatus.SENT if sent else DeliveryStatus.SKIPPED
            delivery.sent_at = now if sent else None
            delivery.next_attempt_at = None
            if sent and delivery.channel == Channel.EMAIL:
                Notification.objects.filter(pk=delivery.notification_id).update(emailed_at=now, updated_at=now)
        delivery.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at", "updated_at"])
    return Attempt(delivery.status, delivery.next_attempt_at)


def deliveries_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Enqueue pending deliveries whose next attempt is due, and those never tried whose task was lost
    (older than NOTIFICATIONS_EMAIL_STALE_SECONDS). Returns how many were enqueued."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.NOTIFICATIONS_EMAIL_STALE_SECONDS)
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    due = pending.filter(next_attempt_at__lte=now) | pending.filter(
        next_attempt_at__isnull=True, created_at__lte=now - stale
    )
    pks = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    if not pks:
        return 0
    with transaction.atomic():
        Delivery.objects.filter(pk__in=pks).update(next_attempt_at=now + stale, updated_at=now)
        _enqueue_deliveries_on_commit(pks)
    return len(pks)


def notifications_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark some (or all) of the person's unread messages read; returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now(), updated_at=timezone.now())


# --- Preferences -----------------------------------------------------------------------------------


def preferences_update(*, user: User, choices: dict[str, dict[str, bool]]) -> None:
    """Record the person's choices per kind and channel (validated at the door: known kinds and channels)."""
    with transaction.atomic():
        for kind, per_channel in sorted(choices.items()):
            for channel, enabled in sorted(per_channel.items()):
                Preference.objects.update_or_create(
                    user=user, kind=kind, channel=channel, defaults={"enabled": enabled}
                )


_UNSET: Any = object()


def preferences_save(
    *,
    user: User,
    choices: dict[str, dict[str, bool]] | None = None,
    quiet_hours: tuple[time, time] | None = _UNSET,
    marketing_consent: bool | None = None,
    location_consent: bool | None = None,
) -> None:
    """Save what the preferences page or API sent, in one transaction; what is not given stays."""
    with transaction.atomic():
        if choices:
            preferences_update(user=user, choices=choices)
        if quiet_hours is not _UNSET:
            start, end = quiet_hours if quiet_hours else (None, None)
            quiet_hours_set(user=user, start=start, end=end)
        if marketing_consent is not None:
            marketing_consent_set(user=user, granted=marketing_consent)
        if location_consent is not None:
            location_consent_set(user=user, granted=location_consent)


def quiet_hours_set(*, user: User, start: time | None, end: time | None) -> QuietHours | None:
    """Set the person's quiet hours, or clear them with ``None``."""
    with transaction.atomic():
        if start is None or end is None:
            QuietHours.objects.filter(user=user).delete()
            return None
        quiet, _ = QuietHours.objects.update_or_create(user=user, defaults={"start": start, "end": end})
    return quiet


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
