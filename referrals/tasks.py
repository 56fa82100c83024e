from celery import shared_task

from referrals import services


@shared_task
def referrals_expire_due() -> int:
    """Daily: referrals with no qualifying purchase within their window become expired."""
    return services.referrals_expire_due()
