from celery import shared_task

from notifications.services import notification_email_send


@shared_task(acks_late=True)
def notification_email(notification_id: int) -> bool:
    return notification_email_send(notification_id=notification_id)
