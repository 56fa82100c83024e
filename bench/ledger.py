"""Ledger throughput: the wallet services against raw psycopg writing the same rows.

Run: ``.venv/bin/python bench/ledger.py`` (about two minutes; see docs/benchmarks.md).
Uses DATABASE_URL, default postgres://postgres@127.0.0.1:5432/cashback_bench_ledger,
which it creates and migrates if needed (it never drops a database). Each run makes
its own accounts.

In one run, on the same PostgreSQL, with the same number of concurrent clients:

(a) raw single: psycopg, one transaction and one commit per transfer: insert the
    journal row, insert its two entries, update the two balances in id order;
(b) service single: ``wallet.services.transaction_post`` per transfer;
(c) service batch: ``transactions_post_batch`` with BENCH_BATCH transfers per database
    transaction, against (c raw) psycopg writing the same batch in one transaction:
    journal rows, a ``FOR NO KEY UPDATE`` of the touched accounts in id order, the
    aggregated balance updates and the entries.

For reference (no target), a third client sends the service's own SQL through raw
psycopg, pipelined as the service sends it: the gap between it and (b) is the
service's Python. The service sends two round trips per transfer, the plain client
(a) six (BEGIN, four statements, COMMIT), so (b) may beat (a): that is the point of
the fast path, not an unfair baseline — (a) is how a hand-written client would do it.

Both sides write identical rows (journal with its payload hash, causes and memo;
entries; balance, version and updated_at) into the same tables, under the same
constraints and triggers. Clients are processes, for both sides: the service spends
more of its time in Python than raw psycopg does, and threads would measure the GIL
rather than the ledger. Both sides use psycopg's default of preparing a statement
after 5 executions (BENCH_PREPARE_THRESHOLD, "none" turns it off on both sides).

Each figure is the best of BENCH_ROUNDS short measurements (the order of the sides
reversed every round), because the machine's other load comes and goes.

Environment: BENCH_SECONDS (per measurement, default 3), BENCH_ROUNDS (default 2),
BENCH_CLIENTS (default "1,4"), BENCH_BATCH (transfers per batch, default 200),
BENCH_PREPARE_THRESHOLD (default 5, or "none").
"""

import hashlib
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench_ledger")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTI=")
os.environ.setdefault("EXTERNAL_ID_KEY", "bench-only-external-id-key-not-a-secret-0123456789")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import environ  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CLIENTS = [int(n) for n in os.environ.get("BENCH_CLIENTS", "1,4").split(",")]
BATCH = int(os.environ.get("BENCH_BATCH", "200"))
_threshold = os.environ.get("BENCH_PREPARE_THRESHOLD", "5")
PREPARE_THRESHOLD = None if _threshold.lower() == "none" else int(_threshold)
COLD_ACCOUNTS = 2_000
HOT_ACCOUNTS = 4
RUN = uuid.uuid4().hex[:8]
TARGET_SINGLE = 0.50
TARGET_BATCH = 0.25


def database_config() -> dict:
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    return config


def conninfo(config: dict, dbname: str | None = None) -> str:
    parts = {
        "dbname": dbname or config["NAME"],
        "host": config.get("HOST") or "127.0.0.1",
        "port": str(config.get("PORT") or 5432),
        "user": config.get("USER") or "postgres",
    }
    if config.get("PASSWORD"):
        parts["password"] = config["PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items())


def ensure_database(config: dict) -> None:
    with psycopg.connect(conninfo(config, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}")


CONFIG = database_config()
ensure_database(CONFIG)

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()
settings.DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = PREPARE_THRESHOLD

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from wallet.models import AccountKind, JournalKind, LedgerAccount  # noqa: E402
from wallet.selectors import wallet_balances, wallet_entries  # noqa: E402
from wallet.services import (  # noqa: E402
    EntrySpec,
    TransferRequest,
    account_get_or_create,
    transaction_post,
    transactions_post_batch,
    transfer,
)

# --- setup ----------------------------------------------------------------------------


def make_accounts(count: int, label: str) -> list[LedgerAccount]:
    """``count`` non-negative accounts, each funded generously from a settlement account."""
    accounts = LedgerAccount.objects.bulk_create(
        LedgerAccount(owner_key=f"bench:{RUN}:{label}:{i}", kind=AccountKind.MERCHANT_FUNDING, currency="NOK")
        for i in range(count)
    )
    outside = account_get_or_create(kind=AccountKind.SETTLEMENT, currency="NOK", owner_key=f"bench:{RUN}:{label}")
    for start in range(0, count, 60):
        batch = accounts[start : start + 60]
        amount = 1_000_000_000
        transaction_post(
            idempotency_key=f"bench:{RUN}:{label}:fund:{start}",
            kind=JournalKind.ADJUSTMENT,
            entries=[EntrySpec.debit(outside, amount * len(batch))] + [EntrySpec.credit(a, amount) for a in batch],
        )
    return accounts


def payload_hash(debit: int, credit: int, amount: int) -> str:
    """What the service stores for the same request, so that both sides write the same row."""
    payload = {
        "op": "transaction_post",
        "kind": "adjustment",
        "memo": "bench",
        "causes": {},
        "entries": sorted([[debit, "debit", amount], [credit, "credit", amount]]),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# --- the posting clients: each is called with (rng, key prefix, i) and returns transfers done


def service_single(accounts: list[LedgerAccount]) -> Callable[..., int]:
    def post(rng: random.Random, prefix: str, i: int) -> int:
        debit, credit = rng.sample(accounts, 2)
        transaction_post(
            idempotency_key=f"{prefix}:{i}",
            kind=JournalKind.ADJUSTMENT,
            entries=transfer(debit=debit, credit=credit, amount=rng.randint(1, 1_000)),
            memo="bench",
        )
        return 1

    return post


def service_batch(accounts: list[LedgerAccount]) -> Callable[..., int]:
    def post(rng: random.Random, prefix: str, i: int) -> int:
        requests = []
        for j in range(BATCH):
            debit, credit = rng.sample(accounts, 2)
            requests.append(
                TransferRequest(
                    idempotency_key=f"{prefix}:{i}:{j}",
                    kind=JournalKind.ADJUSTMENT,
                    entries=transfer(debit=debit, credit=credit, amount=rng.randint(1, 1_000)),
                    memo="bench",
                )
            )
        transactions_post_batch(requests=requests)
        return BATCH

    return post


INSERT_JOURNAL = (
    "INSERT INTO wallet_journaltransaction (idempotency_key, payload_hash, kind, memo, causes, source_type, "
    "source_id, created_at) VALUES (%s, %s, 'adjustment', 'bench', '{}', '', '', now()) RETURNING id"
)
INSERT_ENTRIES = (
    "INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, direction, created_at) "
    "VALUES (%s, %s, 'NOK', %s, 'debit', now()), (%s, %s, 'NOK', %s, 'credit', now())"
)
UPDATE_BALANCE = (
    "UPDATE wallet_ledgeraccount SET balance = balance + %s, version = version + 1, updated_at = now() WHERE id = %s"
)


def _raw_connection() -> psycopg.Connection:
    conn = psycopg.connect(conninfo(CONFIG), autocommit=True)
    conn.prepare_threshold = PREPARE_THRESHOLD
    return conn


def raw_service_sql(accounts: list[LedgerAccount]) -> Callable[..., int]:
    """For reference, not a target: raw psycopg sending the service's own two statements, pipelined
    like the service (BEGIN with the first, COMMIT with the second). The gap to (b) is the
    service's Python: validation, hashing, building the parameters, Django's connection."""
    from wallet.services.posting import _INSERT_JOURNAL_SQL, _apply_params, _apply_sql

    ids = [account.pk for account in accounts]
    conn: list[psycopg.Connection] = []

    def post(rng: random.Random, prefix: str, i: int) -> int:
        if not conn:
            conn.append(_raw_connection())
        debit, credit = rng.sample(ids, 2)
        amount = rng.randint(1, 1_000)
        c = conn[0]
        with c.pipeline(), c.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute(
                _INSERT_JOURNAL_SQL,
                {
                    "key": f"{prefix}:{i}",
                    "hash": payload_hash(debit, credit, amount),
                    "kind": "adjustment",
                    "memo": "bench",
                    "causes": "{}",
                    "source_type": "",
                    "source_id": "",
                    "now": datetime.now(UTC),
                    "entry_accounts": [debit, credit],
                    "entry_currencies": ["NOK", "NOK"],
                    "entry_amounts": [amount, amount],
                    "entry_directions": ["debit", "credit"],
                },
            ).fetchone()
            cur.execute(
                _apply_sql(2),
                _apply_params(sorted([debit, credit]), {debit: -amount, credit: amount}, {}, datetime.now(UTC)),
            )
            cur.execute("COMMIT")
        return 1

    return post


def raw_single(accounts: list[LedgerAccount]) -> Callable[..., int]:
    ids = [account.pk for account in accounts]
    conn: list[psycopg.Connection] = []

    def post(rng: random.Random, prefix: str, i: int) -> int:
        if not conn:
            conn.append(_raw_connection())
        debit, credit = rng.sample(ids, 2)
        amount = rng.randint(1, 1_000)
        with conn[0].transaction(), conn[0].cursor() as cur:
            (journal_id,) = cur.execute(
                INSERT_JOURNAL, [f"{prefix}:{i}", payload_hash(debit, credit, amount)]
            ).fetchone()
            cur.execute(INSERT_ENTRIES, [journal_id, debit, amount, journal_id, credit, amount])
            for account_id, delta in sorted([(debit, -amount), (credit, amount)]):
                cur.execute(UPDATE_BALANCE, [delta, account_id])
        return 1

    return post


RAW_BATCH_JOURNALS = """
INSERT INTO wallet_journaltransaction
    (idempotency_key, payload_hash, kind, memo, causes, source_type, source_id, created_at)
SELECT k, h, 'adjustment', 'bench', '{}', '', '', now()
FROM unnest(%s::varchar[], %s::varchar[]) WITH ORDINALITY AS j (k, h, n)
ORDER BY n
RETURNING id
"""
RAW_BATCH_LOCK = "SELECT id FROM wallet_ledgeraccount WHERE id = ANY(%s::bigint[]) ORDER BY id FOR NO KEY UPDATE"
RAW_BATCH_UPDATE = """
UPDATE wallet_ledgeraccount AS a
SET balance = a.balance + c.delta, version = a.version + c.changes, updated_at = now()
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS c (id, delta, changes) WHERE a.id = c.id
"""
RAW_BATCH_ENTRIES = """
INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, direction, created_at)
SELECT t, a, 'NOK', m, d, now() FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[]) AS e (t, a, m, d)
"""


def raw_batch(accounts: list[LedgerAccount]) -> Callable[..., int]:
    ids = [account.pk for account in accounts]
    conn: list[psycopg.Connection] = []

    def post(rng: random.Random, prefix: str, i: int) -> int:
        if not conn:
            conn.append(_raw_connection())
        transfers = []
        for _ in range(BATCH):
            debit, credit = rng.sample(ids, 2)
            transfers.append((debit, credit, rng.randint(1, 1_000)))
        keys = [f"{prefix}:{i}:{j}" for j in range(BATCH)]
        hashes = [payload_hash(*t) for t in transfers]
        deltas: dict[int, int] = {}
        changes: dict[int, int] = {}
        for debit, credit, amount in transfers:
            for account_id, delta in ((debit, -amount), (credit, amount)):
                deltas[account_id] = deltas.get(account_id, 0) + delta
                changes[account_id] = changes.get(account_id, 0) + 1
        touched = sorted(deltas)
        with conn[0].transaction(), conn[0].cursor() as cur:
            journal_ids = [row[0] for row in cur.execute(RAW_BATCH_JOURNALS, [keys, hashes]).fetchall()]
            cur.execute(RAW_BATCH_LOCK, [touched])
            cur.execute(RAW_BATCH_UPDATE, [touched, [deltas[a] for a in touched], [changes[a] for a in touched]])
            cur.execute(
                RAW_BATCH_ENTRIES,
                [
                    [j for j in journal_ids for _ in (0, 1)],
                    [a for debit, credit, _ in transfers for a in (debit, credit)],
                    [m for _, _, amount in transfers for m in (amount, amount)],
                    ["debit", "credit"] * len(transfers),
                ],
            )
        return BATCH

    return post


# --- measuring ------------------------------------------------------------------------


def _client(post: Callable[..., int], index: int, prefix: str, start_at: float, results) -> None:
    """One client process: post from ``start_at`` for SECONDS; report (transfers, finish time) or the error."""
    try:
        rng = random.Random(index)
        done, i = 0, 0
        time.sleep(max(0.0, start_at - time.time()))
        stop_at = start_at + SECONDS
        while time.time() < stop_at:
            done += post(rng, f"{prefix}:{index}", i)
            i += 1
        results.put((done, time.time(), None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, the run is then invalid
        results.put((0, time.time(), repr(exc)))
    finally:
        connections.close_all()


def measure(post: Callable[..., int], clients: int, label: str) -> float:
    """Transfers per second with ``clients`` processes, each on its own connection."""
    connections.close_all()  # a forked child must not share the parent's socket
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 0.5
    prefix = f"bench:{RUN}:{label}:{clients}"
    processes = [
        context.Process(target=_client, args=(post, index, prefix, start_at, results)) for index in range(clients)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=SECONDS + 120) for _ in processes]
    for process in processes:
        process.join()
    errors = [error for _, _, error in outcomes if error]
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed; first: {errors[0]}")
    return sum(done for done, _, _ in outcomes) / (max(end for _, end, _ in outcomes) - start_at)


def best_of_rounds(sides: list, accounts: list[LedgerAccount], clients: int, label: str) -> dict[str, float]:
    """Each side's best rate over ROUNDS rounds, the order of the sides reversed every round.

    The machine's other load comes and goes; the best of a few short measurements is
    steadier than one long one, and alternating the order spreads the tables' growth
    (later inserts are slower) over both sides.
    """
    best: dict[str, float] = {}
    for round_number in range(ROUNDS):
        for side, make in sides[:: 1 - 2 * (round_number % 2)]:
            rate = measure(make(accounts), clients, f"{label}-{round_number}-{side}")
            best[side] = max(best.get(side, 0.0), rate)
    return best


# --- reads ----------------------------------------------------------------------------


def time_calls(call: Callable[[], object]) -> float:
    """Milliseconds per call, over SECONDS / 2."""
    calls, began = 0, time.perf_counter()
    while time.perf_counter() - began < SECONDS / 2:
        call()
        calls += 1
    return (time.perf_counter() - began) * 1000 / calls


def consumer_with_history(entries: int):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(email=f"bench-{RUN}@example.com", password=None)
    pending = account_get_or_create(user=user, kind=AccountKind.CONSUMER_PENDING, currency="NOK")
    available = account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK")
    merchant = make_accounts(1, "reads")[0]
    for i in range(entries // 3):
        transaction_post(
            idempotency_key=f"bench:{RUN}:earn:{i}",
            kind=JournalKind.REWARD_EARN,
            entries=transfer(debit=merchant, credit=pending, amount=100),
            causes={"purchase": i},
        )
        transaction_post(
            idempotency_key=f"bench:{RUN}:mature:{i}",
            kind=JournalKind.REWARD_MATURE,
            entries=transfer(debit=pending, credit=available, amount=100),
        )
    return user


def verdict(ratio: float, target: float) -> str:
    return f"{ratio:>6.0%}  (target >= {target:.0%}: {'met' if ratio >= target else 'NOT met'})"


def main() -> None:
    began = time.perf_counter()
    print(f"migrating {CONFIG['NAME']} ...")
    call_command("migrate", verbosity=0)
    print(f"setting up {COLD_ACCOUNTS} cold and {HOT_ACCOUNTS} hot accounts (run {RUN}) ...")
    cold = make_accounts(COLD_ACCOUNTS, "cold")
    hot = make_accounts(HOT_ACCOUNTS, "hot")
    print(
        f"clients are processes; best of {ROUNDS} x {SECONDS:g} s per figure;"
        f" prepare_threshold {PREPARE_THRESHOLD} on both sides; {os.cpu_count()} CPUs"
    )

    print("\nsingle transfers, one commit each: transfers/second")
    print(f"{'scenario':<26} {'(a) raw':>9} {'(b) service':>12}   {'(b)/(a)':<35} {'raw, service SQL':>16}")
    scenarios = [(f"{n} client{'s' * (n > 1)}, cold accounts", cold, n) for n in CLIENTS]
    scenarios.append((f"{max(CLIENTS)} clients, {HOT_ACCOUNTS} hot accounts", hot, max(CLIENTS)))
    for number, (name, accounts, clients) in enumerate(scenarios):
        sides = [("raw", raw_single), ("service", service_single), ("reference", raw_service_sql)]
        tps = best_of_rounds(sides, accounts, clients, f"single{number}")
        ratio = verdict(tps["service"] / tps["raw"], TARGET_SINGLE)
        print(f"{name:<26} {tps['raw']:>9.0f} {tps['service']:>12.0f}   {ratio:<35} {tps['reference']:>16.0f}")

    print(f"\nbatches of {BATCH} transfers, one commit per batch: transfers/second")
    print(f"{'scenario':<26} {'(c) raw':>9} {'(c) service':>12}   service/raw")
    for number, clients in enumerate(CLIENTS):
        tps = best_of_rounds([("raw", raw_batch), ("service", service_batch)], cold, clients, f"batch{number}")
        name = f"{clients} client{'s' * (clients > 1)}, cold accounts"
        ratio = verdict(tps["service"] / tps["raw"], TARGET_BATCH)
        print(f"{name:<26} {tps['raw']:>9.0f} {tps['service']:>12.0f}   {ratio}")

    history = 1_500
    print(f"\nreads: a consumer with {history} entries")
    user = consumer_with_history(history)
    # Fresh planner statistics, as autovacuum would have them on a server in use.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE wallet_ledgeraccount, wallet_journaltransaction, wallet_entry")
    balances_ms = time_calls(lambda: wallet_balances(user=user))
    page_ms = time_calls(lambda: list(wallet_entries(user=user)[:25]))
    print(f"{'wallet_balances':<26} {balances_ms:>8.2f} ms/call")
    print(f"{'wallet_entries, first 25':<26} {page_ms:>8.2f} ms/call")
    connection.close()
    print(f"\ntook {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
