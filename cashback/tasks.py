from collections import Counter

from celery import Task, shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

from cashback import batch_scope, events, health, inbox, webhook_retention


@shared_task
def clear_expired_sessions() -> int:
    """Delete expired sessions; returns how many were removed. Safe to run twice."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


# --- Webhook inbox (queue "ingest", see CELERY_TASK_ROUTES) -------------------------------------
# ignore_result: nobody waits for these results, and with the Redis result backend every send of a
# task whose result is kept subscribes the sender to the result's channel until it is read.


@shared_task(ignore_result=True)
def webhook_events_process(event_pks: list[int]) -> dict[str, int]:
    """Process stored webhook events in order, the batch in one transaction with a savepoint per event
    (cashback.inbox.events_process); safe to run twice. Returns how many ended in each status."""
    # One batch scope: the follow-up tasks of all the batch's purchases are published once, at its end.
    with batch_scope.batch_scope():
        return dict(Counter(inbox.events_process(event_ids=event_pks)))


@shared_task(ignore_result=True)
def webhook_events_unmatched_retry() -> int:
    """Re-process unmatched webhook events within the retry window, after a card or shop was registered."""
    return inbox.unmatched_retry()


@shared_task(ignore_result=True)
def webhook_events_retry_due() -> int:
    """Beat: enqueue failed events whose backoff has passed and events stuck in "received"."""
    return inbox.events_retry_due()


# --- Facts after commit (queue "default", see CELERY_TASK_ROUTES) --------------------------------


@shared_task(ignore_result=True)
def fact_deliver(delivery_id: int) -> str:
    """Run one subscriber of one announced fact (cashback.events.delivery_run); safe to run twice."""
    return events.delivery_run(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def fact_deliveries_run(delivery_ids: list[int]) -> dict[str, int]:
    """Run many deliveries (one message for a batch's facts, cashback/batch_scope.py), each on its own
    as ``fact_deliver`` does; safe to run twice."""
    return dict(Counter(events.delivery_run(delivery_id=pk) for pk in delivery_ids))


@shared_task(ignore_result=True)
def facts_deliver_due() -> int:
    """Beat: enqueue failed fact deliveries whose backoff has passed and pending ones whose task was lost."""
    return events.deliveries_due()


# --- Retention (queue "default": a daily batch job must not hold up the ingest queue) -------------


@shared_task(ignore_result=True)
def webhook_payloads_reduce() -> int:
    """Beat, daily: reduce the payloads of settled webhook events past WEBHOOK_PAYLOAD_RETENTION_DAYS
    (cashback.webhook_retention); safe to run twice."""
    return webhook_retention.webhook_payloads_reduce()


# --- Readiness (queue "default": the heartbeat says a worker consumes it) ------------------------


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat(self: Task) -> None:
    """Beat, every WORKER_HEARTBEAT_INTERVAL_SECONDS: record that a worker runs tasks (/readyz/)."""
    health.worker_heartbeat_record(hostname=self.request.hostname or "")
