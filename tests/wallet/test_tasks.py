import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.wallet.factories import LedgerAccountFactory, fund, new_key
from wallet import tasks
from wallet.models import Hold
from wallet.services import hold_place

pytestmark = pytest.mark.django_db


def test_the_expiry_sweep_and_the_nightly_check_are_scheduled():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"wallet.tasks.holds_expire", "wallet.tasks.ledger_check"} <= scheduled


def test_holds_expire_task_expires_due_holds_and_is_safe_to_run_twice():
    account, merchant = LedgerAccountFactory(), LedgerAccountFactory(allows_negative=True)
    fund(account, 100)
    hold = hold_place(
        idempotency_key=new_key(),
        account=account,
        counterparty=merchant,
        amount=60,
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    assert tasks.holds_expire.delay().get() == 1
    assert tasks.holds_expire.delay().get() == 0
    hold.refresh_from_db()
    assert hold.status == Hold.Status.EXPIRED


def test_ledger_check_task_logs_an_error_per_problem(caplog):
    account = LedgerAccountFactory()
    fund(account, 10)
    assert tasks.ledger_check.delay().get() == 0

    with connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_ledgeraccount SET balance = 9 WHERE id = %s", [account.pk])
    with caplog.at_level(logging.ERROR, logger="wallet.tasks"):
        problems = tasks.ledger_check.delay().get()

    assert problems == 1
    assert "cached balance 9 but entries sum to 10" in caplog.text
    assert "Ledger check failed: 1 problems" in caplog.text
