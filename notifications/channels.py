"""Sending one notification on one external channel: e-mail, SMS (cashback.providers.sms) and push
(cashback.providers.push, FCM for Android and iOS). Called by ``services.delivery_attempt`` with
the delivery row locked; raises the providers' temporary or permanent errors for it to record.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import send_mail

from accounts.selectors import devices_of
from accounts.services import devices_remove_dead
from cashback.providers.delivery import DeadTokenError, ProviderPermanentError, ProviderTemporaryError
from cashback.providers.push import get_push_client
from cashback.providers.sms import get_sms_client
from notifications.kinds import KINDS, Channel, Message
from notifications.models import Delivery, Notification


def message_for(notification: Notification, channel: str) -> Message:
    """The words of ``notification`` on ``channel``: its kind's template, or its own title and body."""
    spec = KINDS.get(notification.kind)
    if spec is not None and notification.context:
        return spec.render(channel, notification.context)
    if channel == Channel.SMS:
        return Message(title="", body=f"{notification.title}: {notification.body}".strip(": "))
    return Message(title=notification.title, body=notification.body)


def channel_send(*, delivery: Delivery) -> bool:
    """Send ``delivery``; False when there is nothing to send to (no address, number or device)."""
    notification = delivery.notification
    message = message_for(notification, delivery.channel)
    if delivery.channel == Channel.EMAIL:
        return _email(notification, message)
    if delivery.channel == Channel.SMS:
        if not notification.user.phone:
            return False
        get_sms_client().send(to=notification.user.phone, body=message.body)
        return True
    if delivery.channel == Channel.PUSH:
        return _push(notification, message)
    raise ProviderPermanentError(f"Unknown channel {delivery.channel!r}.")


def _email(notification: Notification, message: Message) -> bool:
    address = notification.user.email
    if not address:
        return False
    body = message.body
    if notification.url:
        body = f"{body}\n\n{settings.SITE_URL.rstrip('/')}{notification.url}"
    try:
        send_mail(message.title, body, None, [address])
    except smtplib.SMTPRecipientsRefused as error:
        raise ProviderPermanentError(f"SMTP refused {address}: {error!r}") from error
    except (smtplib.SMTPException, OSError) as error:
        raise ProviderTemporaryError(f"SMTP: {error!r}") from error
    return True


def _push(notification: Notification, message: Message) -> bool:
    """Push to every device of the person; dead tokens are forgotten. Sent if one device got it."""
    devices = devices_of(user_id=notification.user_id)
    if not devices:
        return False
    client = get_push_client()
    data = {"notification_id": str(notification.pk), "kind": notification.kind, "url": notification.url}
    sent, dead = 0, []
    temporary: ProviderTemporaryError | None = None
    permanent: ProviderPermanentError | None = None
    for device in devices:
        try:
            client.send(token=device.token, title=message.title, body=message.body, data=data)
        except DeadTokenError:
            dead.append(device.token)
        except ProviderTemporaryError as error:
            temporary = error
        except ProviderPermanentError as error:
            permanent = error
        else:
            sent += 1
    devices_remove_dead(tokens=dead)
    if sent:
        return True
    if temporary is not None:
        raise temporary
    if permanent is not None:
        raise permanent
    return False  # every token was dead: no device left to push to
