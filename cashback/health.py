"""Liveness and readiness (docs/operations.md, "Health checks").

``/healthz/`` says the process answers and touches nothing else. ``/readyz/`` runs the checks in
READINESS_CHECKS, each on its own, and says which failed:

- ``database``: ``SELECT 1`` on the default database;
- ``redis``: ``PING`` to REDIS_URL (the broker and cache);
- ``worker``: a worker ran the ``worker_heartbeat`` task, which beat sends every
  WORKER_HEARTBEAT_INTERVAL_SECONDS through the ``default`` queue, within the last
  WORKER_HEARTBEAT_STALE_SECONDS — so beat, the broker and a worker consuming that queue all work.

Without REDIS_URL (Celery eager, ``make run``) the redis and worker checks report ``skipped``.
"""

import time
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from cashback.celery import app as celery_app

HEARTBEAT_KEY = "cashback:worker-heartbeat"
CHECKS = ("database", "redis", "worker")

Result = dict[str, Any]


@cache
def redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL and process, with short timeouts: a probe must answer."""
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def worker_heartbeat_record(*, hostname: str, now: float | None = None) -> None:
    """Run by the heartbeat task on a worker: the time it ran and where."""
    django_cache.set(HEARTBEAT_KEY, {"at": time.time() if now is None else now, "hostname": hostname}, timeout=None)


def _failure(error: BaseException) -> Result:
    return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}


def database_check() -> Result:
    db = connections[DEFAULT_DB_ALIAS]
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:  # Django wraps every driver error (refused, timeout, closed) in it
        if not db.in_atomic_block:
            db.close()  # a broken connection is not reused by the next request
        return _failure(error)
    return {"ok": True}


def redis_check() -> Result:
    if not settings.REDIS_URL:
        return {"ok": True, "skipped": "no REDIS_URL"}
    try:
        redis_client(settings.REDIS_URL).ping()
    except (redis.RedisError, OSError) as error:
        return _failure(error)
    return {"ok": True}


def worker_check(*, now: float | None = None) -> Result:
    if celery_app.conf.task_always_eager:
        return {"ok": True, "skipped": "Celery runs tasks eagerly"}
    try:
        beat = django_cache.get(HEARTBEAT_KEY)
    except (redis.RedisError, OSError) as error:  # the cache is Redis when the worker check applies
        return _failure(error)
    if not beat:
        return {"ok": False, "error": "no worker heartbeat recorded yet"}
    age = (time.time() if now is None else now) - float(beat["at"])
    result = {"ok": age <= settings.WORKER_HEARTBEAT_STALE_SECONDS, "age_seconds": round(age, 1)}
    result["hostname"] = beat.get("hostname", "")
    if not result["ok"]:
        result["error"] = f"the last heartbeat is older than {settings.WORKER_HEARTBEAT_STALE_SECONDS} s"
    return result


_RUNNERS = {"database": database_check, "redis": redis_check, "worker": worker_check}


def readiness(*, checks: list[str] | None = None) -> tuple[bool, dict[str, Result]]:
    """Run ``checks`` (default READINESS_CHECKS); ready when every one passed."""
    results = {name: _RUNNERS[name]() for name in (checks or settings.READINESS_CHECKS)}
    return all(result["ok"] for result in results.values()), results
