"""End to end: signed card-network events from HTTP intake to posted rewards, through a real worker.

Run: ``.venv/bin/python bench/e2e.py`` (a minute or two; see docs/benchmarks.md). Uses DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/cashback_bench_e2e, which it creates and migrates if
needed (it never drops a database), and REDIS_URL, default redis://127.0.0.1:6379/12, as the broker.

In one run, on the same PostgreSQL:

(a) raw: psycopg, one transaction per purchase doing the rows the app writes for it, with no
    application logic: the event row (a copy of the inbox table), the purchase row and its event
    row (copies of the campaigns tables), one journal row with two entries and the two balance
    updates (a consumer account and the merchant's funding account, the same hot row for every
    purchase as in the app), then COMMIT. BENCH_CLIENTS client processes.
(b) e2e: BENCH_CLIENTS client processes POST ``transaction.clearing`` events (distinct ids, cards of
    BENCH_CARDS consumers, 20 shops of one merchant with a live 10 % offer) to the project served by
    gunicorn; a Celery worker (BENCH_CELERY_CONCURRENCY prefork processes, queues ``ingest`` and
    ``rewards``) processes them: inbox row lock, Visa handler, card and shop lookup, purchase row,
    rules engine, budget, ledger posting, reward row. The clock runs from the first POST until the
    last event's reward is in the ledger (polled every 20 ms); the figure is events per second
    over that span. Every event must end with exactly one ``reward_earn`` transaction.

Both sides handle BENCH_EVENTS events per measurement; each figure is the best of BENCH_ROUNDS.
Environment: BENCH_EVENTS (default 1000), BENCH_ROUNDS (2), BENCH_CLIENTS (8), BENCH_CARDS (200),
BENCH_WORKERS / BENCH_THREADS (gunicorn, default 2 x 4), BENCH_CELERY_CONCURRENCY (default 2).
"""

import hashlib
import hmac
import http.client
import json
import logging
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench_e2e")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTI=")
os.environ.setdefault("EXTERNAL_ID_KEY", "bench-only-external-id-key")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["HTTPS"] = "false"
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
os.environ["CARD_NETWORK_PROVIDER"] = os.environ.get("CARD_NETWORK_PROVIDER", "fake")
os.environ["VISA_WEBHOOK_SECRET"] = SECRET = "whsec_bench_" + uuid.uuid4().hex

import django  # noqa: E402
import psycopg  # noqa: E402
from bench_database import conninfo, database_config, ensure_database  # noqa: E402
from cpu_shares import Meter, medians, parent_pid, pid_of  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
CARDS = int(os.environ.get("BENCH_CARDS", "200"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
CELERY_CONCURRENCY = int(os.environ.get("BENCH_CELERY_CONCURRENCY", "2"))
RUN = uuid.uuid4().hex[:8]
SHOPS = 20
MERCHANTS = int(os.environ.get("BENCH_MERCHANTS", "200"))
POLL_SECONDS = 0.02
# The report for people goes through this logger to stdout, one plain line per message (its own handler:
# the project's JSON log format, which Django sets up in this process, is for the services); the last
# line, the JSON object of the figures, is written to stdout directly.
report = logging.getLogger("bench.e2e")
RAW_TABLES = {
    "bench_e2e_event": "cashback_webhookevent",
    "bench_e2e_purchase": "campaigns_purchase",
    "bench_e2e_purchaseevent": "campaigns_purchaseevent",
    "bench_e2e_journal": "wallet_journaltransaction",
    "bench_e2e_entry": "wallet_entry",
    "bench_e2e_account": "wallet_ledgeraccount",
}


CONFIG = database_config()
DSN = conninfo(CONFIG)


def migrate() -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    with psycopg.connect(DSN, autocommit=True) as conn:
        for copy, table in RAW_TABLES.items():
            # Same columns, constraints and indexes (not the foreign keys or triggers).
            conn.execute(f"CREATE TABLE IF NOT EXISTS {copy} (LIKE {table} INCLUDING ALL)")


# --- the world (bench/e2e_world.py) ---------------------------------------------------------------


def build_world() -> dict:
    """Consumers with cards, the hot merchant with SHOPS shops and MERCHANTS more, made through Django
    in this process before any client is forked."""
    django.setup()
    # Only now: bench/e2e_world.py imports the project's models, which need the settings this script
    # put in the environment at its top, and Django set up.
    import e2e_world

    return e2e_world.build_world(run=RUN, cards=CARDS, shops=SHOPS, merchants=MERCHANTS)


# --- the events ------------------------------------------------------------------------------------
# Each scenario says, for event n of a measurement: its type, its purchase's transaction id, the
# amount, the merchant (index into the world), the shop and, for a refund, the original purchase.
# A refund names a purchase cleared by the hot scenario's last e2e (or raw) measurement, which is
# complete before the mix starts: "refunds on purchases already seen".

SCENARIOS = ("hot", "spread", "mix")


def event_plan(scenario: str, n: int, prefix: str, seen: str) -> dict:
    amount = (100 + n % 900) * 100
    plan = {"type": "clearing", "txn": f"txn_{prefix}:{n}", "amount": amount, "merchant": 0, "shop": n % SHOPS}
    if scenario == "spread":
        plan.update(merchant=1 + n % MERCHANTS, shop=0)
    elif scenario == "mix":
        slot = n % 10
        if slot == 8:
            plan["type"] = "auth"
        elif slot == 9:
            # The n-th purchase of the hot run: same card, shop and amount; refund a tenth of it.
            plan.update(type="refund", original=f"txn_{seen}:{n}", amount=amount // 10)
    return plan


VISA_TYPES = {"clearing": "transaction.clearing", "auth": "transaction.auth", "refund": "transaction.refund"}


def event_body(world: dict, event_id: str, n: int, plan: dict) -> bytes:
    """The signed body of one planned event (self-contained: tests/cashback/test_webhook_contract.py
    checks it against the contract without importing this script)."""
    merchant = world["hot"] if plan["merchant"] == 0 else world["spread"][plan["merchant"] - 1]
    data = {
        "id": plan["txn"] if plan["type"] != "refund" else f"rf_{event_id}",
        "amount": f"{plan['amount'] // 100}.{plan['amount'] % 100:02d}",
        "currency": "NOK",
        "datetime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60)),
        "card": {
            "token": world["tokens"][n % len(world["tokens"])],
            "firstNumbers": "424242",
            "lastNumbers": "4242",
            "scheme": "visa",
        },
        "merchant": {"id": merchant[1], "name": "Bench Kaffe"},
        "location": {"id": merchant[2][plan["shop"] % len(merchant[2])], "postcode": "0150", "countryCode": "NOR"},
    }
    if plan["type"] == "refund":
        data["originalTransactionId"] = plan["original"]
    event_type = f"transaction.{plan['type']}"  # clearing, auth or refund
    event = {"id": event_id, "type": event_type, "created": "2026-11-23T10:00:00Z", "data": data}
    return json.dumps(event, separators=(",", ":")).encode()


def signature(body: bytes) -> str:
    t = int(time.time())
    return f"t={t},v1={hmac.new(SECRET.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


# --- (a) raw ---------------------------------------------------------------------------------------


def raw_setup(prefix: str) -> tuple[list[int], list[int]]:
    """The merchants' funding rows (the hot one first) and CARDS consumer rows in the raw account table."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        insert = (
            "INSERT INTO bench_e2e_account (owner_key, kind, currency, allows_negative, balance, pending_debits,"
            " version, created_at, updated_at) VALUES (%s, %s, 'NOK', false, %s, 0, 0, now(), now()) RETURNING id"
        )
        merchants = [
            conn.execute(insert, [f"{prefix}:merchant:{i}", "merchant_funding", 10**12]).fetchone()[0]
            for i in range(1 + MERCHANTS)
        ]
        consumers = [
            conn.execute(insert, [f"{prefix}:consumer:{i}", "consumer_pending", 10**9]).fetchone()[0]
            for i in range(CARDS)
        ]
    return merchants, consumers


def raw_client(prefix: str, scenario: str, seen: str, merchants: list[int], consumers: list[int], world: dict):
    conn = psycopg.connect(DSN)

    def one(n: int) -> None:
        event_id = f"{prefix}:{n}"
        plan = event_plan(scenario, n, prefix, seen)
        body = event_body(world, event_id, n, plan).decode()
        amount = plan["amount"]
        reward = amount // 10
        consumer = consumers[n % len(consumers)]
        merchant = merchants[plan["merchant"]]
        merchant_id = world["hot"][0] if plan["merchant"] == 0 else world["spread"][plan["merchant"] - 1][0]
        conn.execute(
            "INSERT INTO bench_e2e_event (source, event_id, event_type, account, payload, status, attempts,"
            " last_error, unmatched_reason, received_at, processed_at, next_attempt_at, created_at, updated_at)"
            " VALUES ('visa', %s, %s, '', %s::jsonb, 'processed', 1, '', '', now(), now(),"
            " NULL, now(), now())",
            [event_id, VISA_TYPES[plan["type"]], body],
        )
        if plan["type"] == "refund":
            # The purchase the refund names, reduced, its event, and the reward taken back in part.
            purchase = conn.execute(
                "UPDATE bench_e2e_purchase SET refunded_minor = refunded_minor + %s, status = 'partly_refunded',"
                " updated_at = now() WHERE source = 'card' AND external_id = %s RETURNING id",
                [amount, plan["original"]],
            ).fetchone()[0]
            kind, debit, credit = "reward_reverse", consumer, merchant
        else:
            purchase = conn.execute(
                "INSERT INTO bench_e2e_purchase (source, external_id, user_id, merchant_id, location_id,"
                " amount_minor, currency, occurred_at, status, authorised_minor, cleared_minor, refunded_minor,"
                " refund_excess_minor, reversed, line_items, decisions, rewards_basis_minor, rewards_evaluated_at,"
                " created_at, updated_at) VALUES ('card', %s, NULL, %s, NULL, %s, 'NOK', now(), 'cleared', NULL,"
                " %s, 0, 0, false, '[]', '[]', %s, now(), now(), now()) RETURNING id",
                [plan["txn"], merchant_id, amount, amount, amount],
            ).fetchone()[0]
            kind, debit, credit = "reward_earn", merchant, consumer
        conn.execute(
            "INSERT INTO bench_e2e_purchaseevent (purchase_id, source, event_id, kind, external_id,"
            " original_external_id, amount_minor, currency, occurred_at, line_items, created_at)"
            " VALUES (%s, 'card', %s, %s, %s, '', %s, 'NOK', now(), '[]', now())",
            [purchase, event_id, plan["type"], plan["txn"], amount],
        )
        journal = conn.execute(
            "INSERT INTO bench_e2e_journal (idempotency_key, payload_hash, kind, memo, causes, source_type,"
            " source_id, created_at) VALUES (%s, 'x', %s, '10 %% back', %s::jsonb, 'purchase', %s, now())"
            " RETURNING id",
            [f"card:{event_id}:1:{kind}", kind, json.dumps({"purchase": purchase}), str(purchase)],
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO bench_e2e_entry (transaction_id, account_id, currency, amount, direction, created_at)"
            " VALUES (%s, %s, 'NOK', %s, 'debit', now()), (%s, %s, 'NOK', %s, 'credit', now())",
            [journal, debit, reward, journal, credit, reward],
        )
        for account, delta in sorted([(debit, -reward), (credit, reward)]):
            conn.execute(
                "UPDATE bench_e2e_account SET balance = balance + %s, version = version + 1 WHERE id = %s",
                [delta, account],
            )
        conn.commit()

    return one, conn.close


def _raw_process(prefix, index, clients, scenario, seen, merchants, consumers, world, start_at, results) -> None:
    try:
        one, close = raw_client(prefix, scenario, seen, merchants, consumers, world)
        time.sleep(max(0.0, start_at - time.time()))
        for n in range(index, EVENTS, clients):
            one(n)
        results.put((time.time(), None))
        close()
    except BaseException as exc:  # noqa: BLE001
        results.put((time.time(), repr(exc)))


def measure_raw(world: dict, scenario: str, label: str, seen: str, parts: dict[str, int | None]) -> dict:
    """Purchases per second on the raw side, and the CPU each part used per purchase (ms)."""
    prefix = f"bench:{RUN}:{label}"
    merchants, consumers = raw_setup(prefix)
    tables_maintained()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0
    meter = Meter(parts)
    meter.start()
    processes = [
        context.Process(
            target=_raw_process,
            args=(prefix, i, CLIENTS, scenario, seen, merchants, consumers, world, start_at, results),
        )
        for i in range(CLIENTS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    errors = [error for _, error in outcomes if error]
    if errors:
        raise RuntimeError(f"raw clients failed: {errors[0]}")
    cpu = meter.stop()
    return {
        "raw": EVENTS / (max(end for end, _ in outcomes) - start_at),
        "cpu_raw": {name: seconds * 1000 / EVENTS for name, seconds in cpu.items()},
    }


# --- (b) end to end --------------------------------------------------------------------------------


def _http_process(prefix, index, clients, port, scenario, seen, world, start_at, results) -> None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        time.sleep(max(0.0, start_at - time.time()))
        for n in range(index, EVENTS, clients):
            event_id = f"{prefix}:{n}"
            body = event_body(world, event_id, n, event_plan(scenario, n, prefix, seen))
            conn.request(
                "POST",
                "/webhooks/visa/",
                body=body,
                headers={"Content-Type": "application/json", "Visa-Signature": signature(body)},
            )
            response = conn.getresponse()
            answer = response.read()
            if response.status != 202:
                raise RuntimeError(f"unexpected answer {response.status}: {answer[:200]!r}")
        results.put((time.time(), None))
        conn.close()
    except BaseException as exc:  # noqa: BLE001
        results.put((time.time(), repr(exc)))


def events_settled(conn: psycopg.Connection, prefix: str, after_id: int) -> tuple[int, int]:
    """(events of the measurement the worker is done with, of which processed). Polled every
    ``POLL_SECONDS`` (20 ms: at 300 events a second a 100 ms poll overstated a 400-event measurement
    by 4 % on average; a look costs the server about 0.1 ms) on
    one connection, and bounded by the primary key (the measurement's events were all stored after
    ``after_id``): the poll is the benchmark's own cost and must not grow with the table, nor fork a
    server process for each look (6 December 2026: a LIKE over every stored event and a new
    connection per poll took about a tenth of a core from the worker)."""
    settled, processed = conn.execute(
        "SELECT count(*) FILTER (WHERE status <> 'received'), count(*) FILTER (WHERE status = 'processed')"
        " FROM cashback_webhookevent WHERE id > %s AND event_id LIKE %s",
        [after_id, f"{prefix}:%"],
    ).fetchone()
    return settled, processed


def last_event_id() -> int:
    """The newest stored event's id, before a measurement."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM cashback_webhookevent").fetchone()[0]


def tables_maintained() -> None:
    """``VACUUM (ANALYZE)`` of the database before each measurement of either side, outside the clock
    (about 2 s): what autovacuum does on a production primary. This machine's PostgreSQL runs with
    ``autovacuum = off``; without it the statistics of tables that grew by thousands of rows a run say
    they are still small, and plans go wrong — on 6 December 2026 the batch's look-up of stored
    purchase events took 3.4 ms instead of 0.25 ms, and its look-up of ledger accounts, planned as a
    sequential scan, 125 ms instead of 0.2 ms. (Before, only the inbox table was analysed, for the
    poll's plan.)"""
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def rewards_check(prefix: str, scenario: str, seen: str) -> None:
    """Every clearing and auth ended with exactly one reward_earn journal for its purchase, every refund
    with one reward_reverse journal on the purchase it names."""
    earning = [event_plan(scenario, n, prefix, seen) for n in range(EVENTS)]
    expected_earn = sum(1 for plan in earning if plan["type"] != "refund")
    expected_reverse = EVENTS - expected_earn
    with psycopg.connect(DSN) as conn:
        earned, purchases = conn.execute(
            "SELECT count(j.id), count(DISTINCT p.id) FROM campaigns_purchase p JOIN wallet_journaltransaction j"
            " ON j.source_type = 'purchase' AND j.source_id = p.id::text AND j.kind = 'reward_earn'"
            " WHERE p.source = 'card' AND p.external_id LIKE %s",
            [f"txn_{prefix}:%"],
        ).fetchone()
        reversed_ = 0
        if expected_reverse:
            originals = [plan["original"] for plan in earning if plan["type"] == "refund"]
            reversed_ = conn.execute(
                "SELECT count(j.id) FROM campaigns_purchase p JOIN wallet_journaltransaction j"
                " ON j.source_type = 'purchase' AND j.source_id = p.id::text AND j.kind = 'reward_reverse'"
                " WHERE p.source = 'card' AND p.external_id = ANY(%s)",
                [originals],
            ).fetchone()[0]
    if (earned, purchases, reversed_) != (expected_earn, expected_earn, expected_reverse):
        raise RuntimeError(
            f"{scenario}: {earned} reward_earn journals on {purchases} purchases (expected {expected_earn} on"
            f" {expected_earn}), {reversed_} reward_reverse (expected {expected_reverse})"
        )


def measure_e2e(world: dict, port: int, scenario: str, label: str, seen: str, parts: dict[str, int | None]) -> dict:
    """events/s from first POST to the last event settled; intake's acknowledgements per second; the
    CPU each part used per event (ms): the worker, gunicorn, PostgreSQL, Redis, the clients, the
    machine."""
    prefix = f"bench:{RUN}:{label}"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    tables_maintained()
    after_id = last_event_id()
    start_at = time.time() + 1.0
    meter = Meter(parts)
    meter.start()
    processes = [
        context.Process(target=_http_process, args=(prefix, i, CLIENTS, port, scenario, seen, world, start_at, results))
        for i in range(CLIENTS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    errors = [error for _, error in outcomes if error]
    if errors:
        raise RuntimeError(f"http clients failed: {errors[0]}")
    intake_done = max(end for end, _ in outcomes)
    deadline = time.time() + 600
    settled = processed = 0
    with psycopg.connect(DSN, autocommit=True) as poll:
        while time.time() < deadline:
            settled, processed = events_settled(poll, prefix, after_id)
            if settled >= EVENTS:
                break
            time.sleep(POLL_SECONDS)
    finished = time.time()
    cpu = meter.stop()
    if processed != EVENTS:
        raise RuntimeError(f"{scenario}: {processed} of {EVENTS} events processed ({settled} settled)")
    rewards_check(prefix, scenario, seen)
    return {
        "e2e": EVENTS / (finished - start_at),
        "intake": EVENTS / (intake_done - start_at),
        "worker_cpu_ms": cpu["worker"] * 1000 / EVENTS,
        "cpu_e2e": {name: seconds * 1000 / EVENTS for name, seconds in cpu.items()},
    }


# --- processes under test --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "cashback.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        str(THREADS),
        "--keep-alive",
        "60",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ))
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz/")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    sys.exit("gunicorn did not answer /healthz/ within 60 s")


def start_worker() -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "cashback",
        "worker",
        "-Q",
        "ingest,rewards",
        "--concurrency",
        str(CELERY_CONCURRENCY),
        "--pool",
        "prefork",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    worker = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ))
    time.sleep(5)  # let it connect to the broker
    return worker


def purge_queues() -> None:
    from celery import Celery

    client = Celery(broker=os.environ["REDIS_URL"]).connection_for_write().default_channel.client
    client.delete("ingest", "rewards")


def ledger_check() -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "ledger_check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return "passed" if result.returncode == 0 else f"FAILED: {(result.stdout + result.stderr).strip()[-500:]}"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _report_to_stdout() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    report.addHandler(handler)
    report.setLevel(logging.INFO)
    report.propagate = False


def main() -> None:
    _report_to_stdout()
    began = time.perf_counter()
    ensure_database(CONFIG)
    report.info(f"migrating {CONFIG['NAME']} ...")
    migrate()
    purge_queues()
    world = build_world()
    port = int(os.environ.get("BENCH_PORT") or free_port())
    server = start_server(port)
    worker = start_worker()
    with psycopg.connect(DSN, autocommit=True) as probe:  # PostgreSQL's postmaster, when /proc shows it
        postmaster = parent_pid(probe.execute("SELECT pg_backend_pid()").fetchone()[0])
    parts = {"worker": worker.pid, "intake": server.pid, "postgres": postmaster, "redis": pid_of("redis-server")}
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    report.info(
        f"{EVENTS} events per measurement, {CLIENTS} client processes, {CARDS} cards, one hot merchant with {SHOPS}"
        f" shops and {MERCHANTS} more; gunicorn {WORKERS} gthread workers x {THREADS} threads; celery worker"
        f" prefork x {CELERY_CONCURRENCY} on {os.environ['REDIS_URL']} (queues ingest, rewards); {os.cpu_count()}"
        f" CPUs; scenarios {', '.join(SCENARIOS)}; median of {ROUNDS}; load average {' '.join(load_before)}"
    )
    figures: dict[str, dict[str, list[float]]] = {
        name: {"raw": [], "e2e": [], "intake": [], "worker_cpu_ms": [], "cpu_raw": [], "cpu_e2e": []}
        for name in SCENARIOS
    }
    seen: dict[str, list[str]] = {"raw": [], "e2e": []}  # the hot scenario's labels, per round
    try:
        for round_number in range(ROUNDS):
            for scenario in SCENARIOS:
                for side in ("raw", "e2e") if round_number % 2 == 0 else ("e2e", "raw"):
                    label = f"{round_number}:{scenario}:{side}"
                    earlier = seen[side][round_number] if scenario == "mix" else ""
                    if side == "raw":
                        measured = measure_raw(world, scenario, label, f"bench:{RUN}:{earlier}", parts)
                    else:
                        measured = measure_e2e(world, port, scenario, label, f"bench:{RUN}:{earlier}", parts)
                    for name, value in measured.items():
                        figures[scenario][name].append(value)
                    if scenario == "hot":
                        seen[side].append(label)
                report.info(
                    f"  round {round_number + 1} {scenario:<6} raw {figures[scenario]['raw'][-1]:>6.0f}/s"
                    f"  e2e {figures[scenario]['e2e'][-1]:>6.0f}/s"
                    f"  worker CPU {figures[scenario]['worker_cpu_ms'][-1]:>5.1f} ms/event"
                )
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=60)
        purge_queues()
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    check = ledger_check()
    report.info("\nevents/second, median of the runs; ratio = end to end / raw")
    summary = {}
    for name in SCENARIOS:
        raw, e2e = median(figures[name]["raw"]), median(figures[name]["e2e"])
        summary[name] = {
            "raw": round(raw, 1),
            "e2e": round(e2e, 1),
            "ratio": round(e2e / raw, 3) if raw else 0.0,
            "intake": round(median(figures[name]["intake"]), 1),
            "worker_cpu_ms_per_event": round(median(figures[name]["worker_cpu_ms"]), 2),
            "runs": {side: [round(v, 1) for v in figures[name][side]] for side in ("raw", "e2e")},
            "cpu_ms_per_event": {side: medians(figures[name][f"cpu_{side}"]) for side in ("raw", "e2e")},
        }
        report.info(
            f"{name:<7} (a) raw {raw:>7.0f}   (b) end to end {e2e:>6.0f}   {summary[name]['ratio']:>6.1%} of (a)"
            f"   worker CPU {summary[name]['worker_cpu_ms_per_event']:>5.1f} ms/event"
            f"   (intake during (b) {summary[name]['intake']:>5.0f}/s)"
        )
    report.info("\nCPU per event (ms, median of the runs), by part; PostgreSQL's share caps one primary")
    for name in SCENARIOS:
        for side in ("raw", "e2e"):
            cpu = summary[name]["cpu_ms_per_event"][side]
            shares = "  ".join(f"{part} {value:>5.2f}" for part, value in cpu.items())
            ceiling = (
                f"   PostgreSQL alone on {os.cpu_count()} cores: {os.cpu_count() * 1000 / cpu['postgres']:>5.0f}/s"
                if cpu.get("postgres")
                else ""
            )
            report.info(f"{name:<7} {side:<4} {shares}{ceiling}")
    report.info(f"ledger_check: {check}")
    report.info(f"took {time.perf_counter() - began:.0f} s; load average before {load_before}, after {load_after}")
    sys.stdout.write(
        json.dumps(
            {
                "e2e_ratio": summary["hot"]["ratio"],
                "scenarios": summary,
                "events": EVENTS,
                "rounds": ROUNDS,
                "celery_concurrency": CELERY_CONCURRENCY,
                "clients": CLIENTS,
                "ledger_check": check,
                "loadavg_before": load_before,
                "loadavg_after": load_after,
            }
        )
        + "\n"
    )
    if check != "passed":
        sys.exit(1)


if __name__ == "__main__":
    main()
