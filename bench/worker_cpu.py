"""The worker's CPU and statements per event, in one process, without Celery or HTTP (issue 19).

Run: ``.venv/bin/python bench/worker_cpu.py`` (a minute). Uses DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/cashback_bench_worker (created and migrated if needed, never
dropped). It builds bench/e2e.py's world (consumers with cards, a hot merchant with 20 shops,
BENCH_MERCHANTS more), stores BENCH_EVENTS signed-shaped Visa events of a scenario (``hot``,
``spread`` or ``mix``, as bench/e2e.py plans them) with ``inbox.event_receive`` (nothing dispatched),
then runs ``inbox.events_process`` over batches of BENCH_BATCH of them, as the worker's task does,
inside ``batch_scope`` (the follow-up tasks are published to REDIS_URL's broker, as in the worker, and
not run, except the tier recomputes, which the bench's worker runs too: they are measured after the
events, on their own). It reports CPU (``time.process_time``) and SQL statements per event (those
Django's cursors run: the ledger's few per batch on its own cursor are not counted); a warm-up of one
event per consumer (each one's ledger accounts opened, the caches filled) is not counted. Unlike
events per second, CPU per event hardly depends on the load.

BENCH_COLD=1 empties the process's caches after the warm-up (the merchants' inputs, the ledger account
ids), as in a worker process's first round of bench/e2e.py. BENCH_PROFILE=path writes a cProfile of
the measured batches there (``python -m pstats path``).
The last line is one JSON object with the figures.
"""

import cProfile
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench_worker")
os.environ.setdefault("BENCH_MERCHANTS", "20")
os.environ.setdefault("BENCH_CARDS", "200")

import e2e  # noqa: E402  (sets the environment the project needs: keys, broker, settings module)
from bench_database import ensure_database  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "400"))
BATCH = int(os.environ.get("BENCH_BATCH", "20"))
SCENARIO = os.environ.get("BENCH_SCENARIO", "hot")
PROFILE = os.environ.get("BENCH_PROFILE", "")
logger = logging.getLogger("bench.worker_cpu")
SHOW_SQL = int(os.environ.get("BENCH_SHOW_SQL", "0"))  # log the first N statements measured (stderr)
# BENCH_COLD=1: the process's caches (merchants' inputs, ledger account ids) are emptied after the
# warm-up, as in a worker process's first round of bench/e2e.py (the accounts exist, this process
# knows none of them).
COLD = os.environ.get("BENCH_COLD", "") not in ("", "0")


def main() -> None:
    ensure_database(e2e.CONFIG)
    e2e.migrate()
    world = e2e.build_world()

    # The project's modules import only now: e2e.migrate() has set Django up (the settings module,
    # the keys) for this process.
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from campaigns import merchant_cache
    from campaigns.services import tier_recompute_many, tiers
    from cashback import inbox
    from cashback.batch_scope import batch_scope
    from cashback.models import WebhookEvent
    from wallet.services import accounts_forget

    settings.INBOX_ENQUEUE_ON_RECEIPT = False
    if SHOW_SQL:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        logger.setLevel(logging.INFO)
    prefix = f"cpu{e2e.RUN}"
    seen = f"{prefix}h"

    def store(label: str, scenario: str, n: int) -> list[int]:
        pks = []
        for i in range(n):
            event_id = f"evt_{prefix}{label}_{i}"
            plan = e2e.event_plan(scenario, i, f"{prefix}{label}", seen)
            body = e2e.event_body(world, event_id, i, plan)
            stored = inbox.event_receive(
                source="visa", event_id=event_id, event_type=e2e.VISA_TYPES[plan["type"]], payload=body.decode()
            )
            assert stored is not None
            pks.append(stored.pk)
        return pks

    def run(pks: list[int]) -> None:
        for start in range(0, len(pks), BATCH):
            with batch_scope():
                inbox.events_process(event_ids=pks[start : start + BATCH])

    if SCENARIO == "mix":  # its refunds name purchases of a hot run: clear those first (not measured)
        run(store("h", "hot", EVENTS))
    # Every consumer once (their ledger accounts are opened at their first reward) and the caches filled:
    # the figures are the steady state, as in bench/e2e.py's later rounds.
    warm = store("w", "hot" if SCENARIO == "mix" else SCENARIO, max(BATCH, e2e.CARDS))
    pks = store("m", SCENARIO, EVENTS)
    run(warm)  # the caches fill
    if COLD:
        merchant_cache.invalidate(None)
        accounts_forget()

    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        if SHOW_SQL and statements <= SHOW_SQL:
            logger.info("SQL %s", sql[:160].replace("\n", " "))
        return execute(sql, params, many, context)

    # The tier recomputes the batches publish (queue "rewards": the bench's worker runs them too) are
    # collected and run after the measurement, measured on their own.
    published: list[list[int]] = []
    tiers._tier_recompute_publish = published.append

    profiler = cProfile.Profile() if PROFILE else None
    with connection.execute_wrapper(count):
        wall = time.perf_counter()
        cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        run(pks)
        if profiler is not None:
            profiler.disable()
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
    followup_statements = statements
    with connection.execute_wrapper(count):
        followup_cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        for user_ids in published:
            tier_recompute_many(user_ids=user_ids, requested_at=timezone.now())
        if profiler is not None:
            profiler.disable()
        followup_cpu = time.process_time() - followup_cpu
    followup_statements = statements - followup_statements
    statements -= followup_statements
    if profiler is not None:
        profiler.dump_stats(PROFILE)
    statuses = WebhookEvent.objects.filter(pk__in=pks).values_list("status", flat=True)
    assert set(statuses) == {"processed"}, set(statuses)
    figures = {
        "scenario": SCENARIO,
        "cold": COLD,
        "events": len(pks),
        "batch": BATCH,
        "cpu_ms_per_event": round(cpu * 1000 / len(pks), 2),
        "wall_ms_per_event": round(wall * 1000 / len(pks), 2),
        "statements_per_event": round(statements / len(pks), 2),
        "tier_recompute_cpu_ms_per_event": round(followup_cpu * 1000 / len(pks), 2),
        "tier_recompute_statements_per_event": round(followup_statements / len(pks), 2),
        "load": os.getloadavg()[0],
    }
    sys.stdout.write(json.dumps(figures) + "\n")  # the last line: one JSON object of the figures


if __name__ == "__main__":
    main()
