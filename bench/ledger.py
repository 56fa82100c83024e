"""Ledger throughput: wallet.services.transaction_post against the same work in raw SQL.

Run: ``.venv/bin/python bench/ledger_bench.py`` (about a minute). Uses DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/cashback_bench, which it creates and
migrates if needed (it never drops a database). Each run makes its own accounts.

For each scenario it posts transfers for a fixed time through the service (Django ORM,
locks, checks, idempotency) and through a raw-psycopg baseline doing the minimal
equivalent in one transaction on the same tables, with the same triggers: insert the
journal row, insert two entries, update two balances (in id order). It prints
transfers per second for both and the service's share of the baseline, then times the
balances and movements selectors on a consumer with a long history.

The machine's other load shows in the figures: compare the two columns of one run
rather than runs on different days.

Environment: BENCH_SECONDS (per measurement, default 4), BENCH_THREADS (default 8).
"""

import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import environ  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
COLD_ACCOUNTS = 2_000
HOT_ACCOUNTS = 4
RUN = uuid.uuid4().hex[:8]


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

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from wallet.models import AccountKind, JournalKind, LedgerAccount  # noqa: E402
from wallet.selectors import wallet_balances, wallet_entries  # noqa: E402
from wallet.services import EntrySpec, account_get_or_create, transaction_post, transfer  # noqa: E402

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


# --- the two ways of posting ----------------------------------------------------------


def service_worker(accounts: list[LedgerAccount], name: str) -> Callable[[random.Random, int], None]:
    def post(rng: random.Random, i: int) -> None:
        debit, credit = rng.sample(accounts, 2)
        transaction_post(
            idempotency_key=f"bench:{RUN}:{name}:{threading.get_ident()}:{i}",
            kind=JournalKind.ADJUSTMENT,
            entries=transfer(debit=debit, credit=credit, amount=rng.randint(1, 1_000)),
            memo="bench",
        )

    return post


INSERT_JOURNAL = (
    "INSERT INTO wallet_journaltransaction (idempotency_key, payload_hash, kind, memo, causes, source_type, "
    "source_id, created_at) VALUES (%s, %s, 'adjustment', 'bench', '{}', '', '', now()) RETURNING id"
)
INSERT_ENTRIES = (
    "INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, direction, created_at) "
    "VALUES (%s, %s, 'NOK', %s, 'debit', now()), (%s, %s, 'NOK', %s, 'credit', now())"
)
UPDATE_BALANCE = "UPDATE wallet_ledgeraccount SET balance = balance + %s, version = version + 1 WHERE id = %s"


def raw_worker(accounts: list[LedgerAccount], name: str) -> Callable[[random.Random, int], None]:
    ids = [account.pk for account in accounts]
    local = threading.local()

    def post(rng: random.Random, i: int) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(conninfo(CONFIG), autocommit=True)
        debit, credit = rng.sample(ids, 2)
        amount = rng.randint(1, 1_000)
        with local.conn.transaction(), local.conn.cursor() as cur:
            (journal_id,) = cur.execute(
                INSERT_JOURNAL, [f"bench:{RUN}:{name}:{threading.get_ident()}:{i}", "0" * 64]
            ).fetchone()
            cur.execute(INSERT_ENTRIES, [journal_id, debit, amount, journal_id, credit, amount])
            for account_id, delta in sorted([(debit, -amount), (credit, amount)]):
                cur.execute(UPDATE_BALANCE, [delta, account_id])

    def close() -> None:
        if hasattr(local, "conn"):
            local.conn.close()

    post.close = close  # type: ignore[attr-defined]
    return post


def measure(post: Callable[[random.Random, int], None], threads: int) -> float:
    """Transfers per second over SECONDS with ``threads`` threads, each on its own connection."""
    counts = [0] * threads
    errors: list[BaseException] = []
    start_line = threading.Barrier(threads + 1)
    stop_at: list[float] = []

    def run(index: int) -> None:
        rng = random.Random(index)
        try:
            start_line.wait()
            i = 0
            while time.perf_counter() < stop_at[0]:
                post(rng, i)
                i += 1
            counts[index] = i
        except BaseException as exc:  # noqa: BLE001 - reported below, the run is then invalid
            errors.append(exc)
        finally:
            connection.close()
            if hasattr(post, "close"):
                post.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    stop_at.append(began + SECONDS)
    start_line.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} workers failed; first: {errors[0]!r}")
    return sum(counts) / elapsed


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


def main() -> None:
    print(f"migrating {CONFIG['NAME']} ...")
    call_command("migrate", verbosity=0)
    print(f"setting up {COLD_ACCOUNTS} cold and {HOT_ACCOUNTS} hot accounts (run {RUN}) ...")
    cold = make_accounts(COLD_ACCOUNTS, "cold")
    hot = make_accounts(HOT_ACCOUNTS, "hot")

    scenarios = [
        ("1 thread, cold accounts", cold, 1),
        (f"{THREADS} threads, cold accounts", cold, THREADS),
        (f"{THREADS} threads, {HOT_ACCOUNTS} hot accounts", hot, THREADS),
    ]
    print(f"\nwrites: transfers/second over {SECONDS:g} s each (2 entries, 2 balance updates per transfer)")
    print(f"{'scenario':<28} {'service':>10} {'raw SQL':>10} {'service/raw':>12}")
    for name, accounts, threads in scenarios:
        slug = name.replace(" ", "-").replace(",", "")
        service_tps = measure(service_worker(accounts, f"svc-{slug}"), threads)
        raw_tps = measure(raw_worker(accounts, f"raw-{slug}"), threads)
        print(f"{name:<28} {service_tps:>10.0f} {raw_tps:>10.0f} {service_tps / raw_tps:>11.0%}")

    history = 1_500
    print(f"\nreads: a consumer with {history} entries")
    user = consumer_with_history(history)
    # Fresh planner statistics, as autovacuum would have them on a server in use.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE wallet_ledgeraccount, wallet_journaltransaction, wallet_entry")
    balances_ms = time_calls(lambda: wallet_balances(user=user))
    page_ms = time_calls(lambda: list(wallet_entries(user=user)[:25]))
    print(f"{'wallet_balances':<28} {balances_ms:>8.2f} ms/call {1000 / balances_ms:>8.0f} calls/s")
    print(f"{'wallet_entries, first 25':<28} {page_ms:>8.2f} ms/call {1000 / page_ms:>8.0f} calls/s")
    connection.close()


if __name__ == "__main__":
    main()
