"""The one backoff schedule for work that is retried automatically (webhook events, facts, e-mails)."""

from datetime import timedelta


def retry_delay(attempts: int) -> timedelta:
    """Backoff before the next automatic attempt after ``attempts`` failures: 1, 2, 4 ... minutes, at most 6 h."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))
