"""Gunicorn's settings for the web service (read from the working directory: docker-compose.yml,
the Dockerfile and bench/webhooks.py all start gunicorn from the project root).

gthread workers: each worker process serves WEB_THREADS requests at once, so a request waiting on
PostgreSQL or Redis does not hold a whole process, and keep-alive connections from webhook senders
are kept. One process per core (WEB_CONCURRENCY) because a request is mostly Python, which runs on
one core per process at a time. docs/operations.md lists the variables; docs/benchmarks.md how
they were chosen.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = int(os.environ.get("WEB_KEEPALIVE_SECONDS", "30"))
# Off by default: the proxy in front logs requests; WEB_ACCESS_LOG=- logs each one to stdout.
accesslog = os.environ.get("WEB_ACCESS_LOG") or None

# Metrics (cashback/metrics.py): each worker process counts in files under PROMETHEUS_MULTIPROC_DIR
# and a scrape of any worker adds them all up. Set here, before the workers import the app (the
# client reads it at import); a directory of its own per server unless the environment names one,
# emptied at start so that counts of an earlier run are not added in.
_made_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cashback-metrics-")


def on_starting(server: object) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server: object, worker: Any) -> None:
    # Imported here, not above: the client picks its value storage when first imported, which must
    # happen after PROMETHEUS_MULTIPROC_DIR is set (the workers import it when they load the app).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: object) -> None:
    if _made_metrics_dir:  # ours alone: nothing else reads it once the server is gone
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
