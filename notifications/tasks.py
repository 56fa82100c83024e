from celery import shared_task

from notifications import services


@shared_task(acks_late=True)
def notification_email(notification_id: int) -> bool:
    return services.notification_email_send(notification_id=notification_id)


@shared_task(acks_late=True, ignore_result=True)
def outgoing_email_send(email_id: int) -> bool:
    """Send one queued e-mail (a merchant's review decision, an invitation); safe to run twice."""
    return services.outgoing_email_send(email_id=email_id)


@shared_task(ignore_result=True)
def outgoing_emails_due() -> int:
    """Beat: enqueue queued e-mails whose retry is due or whose task was lost."""
    return services.outgoing_emails_due()
