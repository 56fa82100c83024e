"""``manage.py readiness``: the healthcheck of the worker and beat containers."""

import json
import time

import pytest
from django.core.management import CommandError, call_command

from cashback import health
from cashback.celery import app


@pytest.fixture
def real_broker():
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_a_fresh_heartbeat_passes_and_a_stale_one_fails(capsys, real_broker, settings):
    health.worker_heartbeat_record(hostname="w1")
    call_command("readiness", "worker")
    assert json.loads(capsys.readouterr().out)["checks"]["worker"]["ok"] is True

    health.worker_heartbeat_record(hostname="w1", now=time.time() - settings.WORKER_HEARTBEAT_STALE_SECONDS - 1)
    with pytest.raises(CommandError, match="not ready"):
        call_command("readiness", "worker")
    assert json.loads(capsys.readouterr().out)["status"] == "unavailable"


def test_an_unknown_check_is_refused_with_a_message():
    with pytest.raises(CommandError, match="Unknown check bogus"):
        call_command("readiness", "bogus")
