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

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = int(os.environ.get("WEB_KEEPALIVE_SECONDS", "30"))
# Off by default: the proxy in front logs requests; WEB_ACCESS_LOG=- logs each one to stdout.
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
