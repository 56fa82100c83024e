"""/metrics under gunicorn with several worker processes: the counts of every process are added up
(prometheus_client's multiprocess mode, set up by gunicorn.conf.py), whichever process answers the scrape."""

import http.client
import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None, reason="needs gunicorn"),
]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "gunicorn-metrics-token"
REQUESTS = 24


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, **headers: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection: any worker may answer
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _health_requests_counted(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "cashback_http_requests_total" and sample.labels == {
                "view": "health",
                "method": "GET",
                "status": "200",
            }:
                return sample.value
    return 0.0


@pytest.mark.django_db(transaction=True)
def test_the_counts_of_all_worker_processes_are_added_up(tmp_path):
    database = connection.settings_dict
    port = _free_port()
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DEBUG", "CELERY_TASK_ALWAYS_EAGER", "REDIS_URL")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="cashback.settings",
        SECRET_KEY="metrics-test-secret-key-0123456789-abcdefghijklmnop",
        HTTPS="false",
        DATABASE_URL=(
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        METRICS_TOKEN=TOKEN,
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="3",
        WEB_THREADS="1",
        LOG_LEVEL="WARNING",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "cashback.wsgi:application"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until it serves; bounded by the deadline
            if server.poll() is not None:
                raise AssertionError(f"gunicorn exited: {server.stderr.read()}")
            try:
                status, _ = _get(port, "/metrics", Authorization=f"Bearer {TOKEN}")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)

        for _ in range(REQUESTS):
            assert _get(port, "/healthz/")[0] == 200
        scrapes = [_get(port, "/metrics", Authorization=f"Bearer {TOKEN}") for _ in range(6)]
        refused = _get(port, "/metrics")
    finally:
        server.terminate()
        server.wait(timeout=30)

    # every scrape, whichever of the three processes answered it, counts all the requests
    assert [_health_requests_counted(body.decode()) for _, body in scrapes] == [REQUESTS] * 6
    assert refused[0] == 401
    assert list(tmp_path.glob("counter_*.db")), "the processes counted in the directory named to them"
