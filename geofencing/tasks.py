from celery import shared_task

from geofencing import services


@shared_task(acks_late=True, ignore_result=True)
def nearby_push_send(claim_id: int) -> bool:
    """Write a claimed "nearby offer" notification and send its push; safe to run twice."""
    return services.nearby_push_send(claim_id=claim_id)


@shared_task(ignore_result=True)
def nearby_pushes_due() -> int:
    """Beat: enqueue claimed nearby pushes whose task was lost (docs/geofencing.md)."""
    return services.nearby_pushes_due()
