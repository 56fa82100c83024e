from celery import shared_task

from notifications import services


@shared_task(acks_late=True, ignore_result=True)
def notification_deliver(delivery_id: int) -> str:
    """Send one channel of one notification; safe to run twice (a sent delivery is left alone)."""
    return services.delivery_attempt(delivery_id=delivery_id).status


@shared_task(ignore_result=True)
def deliveries_due() -> int:
    """Beat: enqueue notification deliveries whose retry (or the end of quiet hours) is due, or whose task was lost."""
    return services.deliveries_due()


@shared_task(acks_late=True, ignore_result=True)
def outgoing_email_send(email_id: int) -> bool:
    """Send one queued e-mail (a merchant's review decision, an invitation); safe to run twice."""
    return services.outgoing_email_send(email_id=email_id)


@shared_task(ignore_result=True)
def outgoing_emails_due() -> int:
    """Beat: enqueue queued e-mails whose retry is due or whose task was lost."""
    return services.outgoing_emails_due()
