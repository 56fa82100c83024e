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
    last event's reward is in the ledger (polled every 100 ms); the figure is events per second
    over that span. Every event must end with exactly one ``reward_earn`` transaction.

Both sides handle BENCH_EVENTS events per measurement; each figure is the best of BENCH_ROUNDS.
Environment: BENCH_EVENTS (default 1000), BENCH_ROUNDS (2), BENCH_CLIENTS (8), BENCH_CARDS (200),
BENCH_WORKERS / BENCH_THREADS (gunicorn, default 2 x 4), BENCH_CELERY_CONCURRENCY (default 2).
"""

import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import socket
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["HTTPS"] = "false"
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
os.environ["CARD_NETWORK_PROVIDER"] = os.environ.get("CARD_NETWORK_PROVIDER", "fake")
os.environ["VISA_WEBHOOK_SECRET"] = SECRET = "whsec_bench_" + uuid.uuid4().hex

import psycopg  # noqa: E402
from bench_database import conninfo, database_config, ensure_database  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
CARDS = int(os.environ.get("BENCH_CARDS", "200"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
CELERY_CONCURRENCY = int(os.environ.get("BENCH_CELERY_CONCURRENCY", "2"))
RUN = uuid.uuid4().hex[:8]
SHOPS = 20
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


# --- the world: consumers with cards, a merchant with shops and a live offer -----------------------


def build_world() -> dict:
    """Created through Django (in this process, before any client is forked)."""
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.models import Card
    from campaigns.models import Offer
    from merchants.models import Location, Merchant
    from wallet.models import AccountKind, JournalKind
    from wallet.services import account_get_or_create, platform_account, transaction_post, transfer

    User = get_user_model()
    merchant = Merchant.objects.create(
        legal_name=f"Bench Kaffe {RUN} AS",
        display_name=f"Bench Kaffe {RUN}",
        organisation_number=str(900_000_000 + int(RUN[:6], 16) % 99_999_999)[:9],
        country="NO",
        currency="NOK",
        category_code="5814",
        contact_name="Bench",
        contact_email=f"bench-{RUN}@example.com",
        contact_phone="+4722000000",
        status=Merchant.Status.APPROVED,
        approved_at=timezone.now(),
    )
    shops = [
        Location.objects.create(
            merchant=merchant,
            name=f"Shop {i}",
            street="Stranden 1",
            postcode="0250",
            city="Oslo",
            country="NO",
            time_zone="Europe/Oslo",
            network_merchant_id=f"NM-{RUN}",
            network_store_id=f"ST-{i}",
        )
        for i in range(SHOPS)
    ]
    users = User.objects.bulk_create(User(email=f"bench-{RUN}-{i}@example.com") for i in range(CARDS))
    tokens = [f"ctok_bench_{RUN}_{i}" for i in range(CARDS)]
    Card.objects.bulk_create(
        Card(user=user, network_token=token, first_six="424242", last_four="4242", exp_month=12, exp_year=2034)
        for user, token in zip(users, tokens, strict=True)
    )
    now = timezone.now()
    Offer.objects.create(
        merchant=merchant,
        title="10 % back",
        reward_type="percent",
        percent=Decimal("10"),
        currency="NOK",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        status="live",
    )
    funding = account_get_or_create(
        kind=AccountKind.MERCHANT_FUNDING, currency="NOK", owner_key=merchant.ledger_owner_key
    )
    account_get_or_create(kind=AccountKind.MERCHANT_RECEIVABLE, currency="NOK", owner_key=merchant.ledger_owner_key)
    transaction_post(
        idempotency_key=f"bench:e2e:{RUN}:funding",
        kind=JournalKind.MERCHANT_FUNDING,
        entries=transfer(
            debit=platform_account(kind=AccountKind.SETTLEMENT, currency="NOK"), credit=funding, amount=10**12
        ),
    )
    from django.db import connection

    connection.close()
    return {"tokens": tokens, "merchant_id": merchant.pk, "shops": [s.network_store_id for s in shops]}


# --- the events ------------------------------------------------------------------------------------


def event_body(world: dict, event_id: str, n: int) -> bytes:
    event = {
        "id": event_id,
        "type": "transaction.clearing",
        "created": "2026-11-23T10:00:00Z",
        "data": {
            "id": f"txn_{event_id}",
            "amount": f"{100 + n % 900}.00",
            "currency": "NOK",
            "datetime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60)),
            "card": {
                "token": world["tokens"][n % len(world["tokens"])],
                "firstNumbers": "424242",
                "lastNumbers": "4242",
                "scheme": "visa",
            },
            "merchant": {"id": f"NM-{RUN}", "name": "Bench Kaffe"},
            "location": {"id": world["shops"][n % len(world["shops"])], "postcode": "0150", "countryCode": "NOR"},
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


def signature(body: bytes) -> str:
    t = int(time.time())
    return f"t={t},v1={hmac.new(SECRET.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


# --- (a) raw ---------------------------------------------------------------------------------------


def raw_setup(prefix: str) -> tuple[int, list[int]]:
    """A hot 'merchant' row and CARDS consumer rows in the raw account table."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        insert = (
            "INSERT INTO bench_e2e_account (owner_key, kind, currency, allows_negative, balance, pending_debits,"
            " version, created_at, updated_at) VALUES (%s, %s, 'NOK', false, %s, 0, 0, now(), now()) RETURNING id"
        )
        merchant = conn.execute(insert, [f"{prefix}:merchant", "merchant_funding", 10**12]).fetchone()[0]
        consumers = [
            conn.execute(insert, [f"{prefix}:consumer:{i}", "consumer_pending", 0]).fetchone()[0] for i in range(CARDS)
        ]
    return merchant, consumers


def raw_client(prefix: str, merchant: int, consumers: list[int], world: dict):
    conn = psycopg.connect(DSN)

    def one(n: int) -> None:
        event_id = f"{prefix}:{n}"
        body = event_body(world, event_id, n).decode()
        amount = (100 + n % 900) * 100
        reward = amount // 10
        consumer = consumers[n % len(consumers)]
        conn.execute(
            "INSERT INTO bench_e2e_event (source, event_id, event_type, account, payload, status, attempts,"
            " last_error, unmatched_reason, received_at, processed_at, next_attempt_at, created_at, updated_at)"
            " VALUES ('visa', %s, 'transaction.clearing', '', %s::jsonb, 'processed', 1, '', '', now(), now(),"
            " NULL, now(), now())",
            [event_id, body],
        )
        purchase = conn.execute(
            "INSERT INTO bench_e2e_purchase (source, external_id, user_id, merchant_id, location_id, amount_minor,"
            " currency, occurred_at, status, authorised_minor, cleared_minor, refunded_minor, refund_excess_minor,"
            " reversed, line_items, decisions, rewards_basis_minor, rewards_evaluated_at, created_at, updated_at)"
            " VALUES ('card', %s, NULL, %s, NULL, %s, 'NOK', now(), 'cleared', NULL, %s, 0, 0, false, '[]',"
            " '[]', %s, now(), now(), now()) RETURNING id",
            [f"txn_{event_id}", world["merchant_id"], amount, amount, amount],
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO bench_e2e_purchaseevent (purchase_id, source, event_id, kind, external_id,"
            " original_external_id, amount_minor, currency, occurred_at, line_items, created_at)"
            " VALUES (%s, 'card', %s, 'clearing', %s, '', %s, 'NOK', now(), '[]', now())",
            [purchase, event_id, f"txn_{event_id}", amount],
        )
        journal = conn.execute(
            "INSERT INTO bench_e2e_journal (idempotency_key, payload_hash, kind, memo, causes, source_type,"
            " source_id, created_at) VALUES (%s, 'x', 'reward_earn', '10 %% back', %s::jsonb, 'purchase', %s, now())"
            " RETURNING id",
            [f"card:txn_{event_id}:1:earn", json.dumps({"purchase": purchase}), str(purchase)],
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO bench_e2e_entry (transaction_id, account_id, currency, amount, direction, created_at)"
            " VALUES (%s, %s, 'NOK', %s, 'debit', now()), (%s, %s, 'NOK', %s, 'credit', now())",
            [journal, merchant, reward, journal, consumer, reward],
        )
        for account, delta in sorted([(merchant, -reward), (consumer, reward)]):
            conn.execute(
                "UPDATE bench_e2e_account SET balance = balance + %s, version = version + 1 WHERE id = %s",
                [delta, account],
            )
        conn.commit()

    return one, conn.close


def _raw_process(prefix, index, clients, merchant, consumers, world, start_at, results) -> None:
    try:
        one, close = raw_client(f"{prefix}:{index}", merchant, consumers, world)
        time.sleep(max(0.0, start_at - time.time()))
        for n in range(index, EVENTS, clients):
            one(n)
        results.put((time.time(), None))
        close()
    except BaseException as exc:  # noqa: BLE001
        results.put((time.time(), repr(exc)))


def measure_raw(world: dict, label: str) -> float:
    prefix = f"bench:{RUN}:{label}"
    merchant, consumers = raw_setup(prefix)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0
    processes = [
        context.Process(target=_raw_process, args=(prefix, i, CLIENTS, merchant, consumers, world, start_at, results))
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
    return EVENTS / (max(end for end, _ in outcomes) - start_at)


# --- (b) end to end --------------------------------------------------------------------------------


def _http_process(prefix, index, clients, port, world, start_at, results) -> None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        time.sleep(max(0.0, start_at - time.time()))
        for n in range(index, EVENTS, clients):
            event_id = f"{prefix}:{n}"
            body = event_body(world, event_id, n)
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


def rewards_posted(prefix: str) -> int:
    with psycopg.connect(DSN) as conn:
        return conn.execute(
            "SELECT count(*) FROM wallet_journaltransaction WHERE idempotency_key LIKE %s AND kind = 'reward_earn'",
            [f"card:txn_{prefix}:%"],
        ).fetchone()[0]


def measure_e2e(world: dict, port: int, label: str) -> tuple[float, float]:
    """(events/s from first POST to last reward posted, events/s acknowledged by intake)."""
    prefix = f"bench:{RUN}:{label}"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0
    processes = [
        context.Process(target=_http_process, args=(prefix, i, CLIENTS, port, world, start_at, results))
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
    posted = 0
    while time.time() < deadline:
        posted = rewards_posted(prefix)
        if posted >= EVENTS:
            break
        time.sleep(0.1)
    finished = time.time()
    if posted != EVENTS:
        raise RuntimeError(f"{posted} of {EVENTS} rewards posted after 10 minutes")
    return EVENTS / (finished - start_at), EVENTS / (intake_done - start_at)


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


def main() -> None:
    began = time.perf_counter()
    ensure_database(CONFIG)
    print(f"migrating {CONFIG['NAME']} ...")
    migrate()
    purge_queues()
    world = build_world()
    port = free_port()
    server = start_server(port)
    worker = start_worker()
    print(
        f"{EVENTS} events per measurement, {CLIENTS} client processes, {CARDS} cards, {SHOPS} shops; gunicorn"
        f" {WORKERS} gthread workers x {THREADS} threads; celery worker prefork x {CELERY_CONCURRENCY} on"
        f" {os.environ['REDIS_URL']} (queues ingest, rewards); {os.cpu_count()} CPUs; best of {ROUNDS}"
    )
    best = {"raw": 0.0, "e2e": 0.0, "intake": 0.0}
    try:
        for round_number in range(ROUNDS):
            for side in ("raw", "e2e") if round_number % 2 == 0 else ("e2e", "raw"):
                label = f"{round_number}:{side}"
                if side == "raw":
                    best["raw"] = max(best["raw"], measure_raw(world, label))
                else:
                    e2e, intake = measure_e2e(world, port, label)
                    best["e2e"], best["intake"] = max(best["e2e"], e2e), max(best["intake"], intake)
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=60)
        purge_queues()
    print("\nevents/second")
    print(f"(a) raw PostgreSQL, purchase + ledger rows, one commit each   {best['raw']:>8.0f}")
    print(
        f"(b) end to end: POST /webhooks/visa/ -> reward posted         {best['e2e']:>8.0f}"
        f"   {best['e2e'] / best['raw']:.0%} of (a)"
    )
    print(f"    (intake alone during (b): acknowledged                    {best['intake']:>8.0f})")
    print(f"\ntook {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
