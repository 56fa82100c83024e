"""Celery entry points of the staff panel: each takes ids and calls one service; safe to run twice."""

from celery import shared_task

from adminpanel.invitations import invitation_sms_deliver


@shared_task
def invitation_sms_send(invitation_id: int) -> bool:
    return invitation_sms_deliver(invitation_id=invitation_id)
