"""Webhook intake: signed card-network events posted over HTTP to gunicorn, against raw psycopg.

Run: ``.venv/bin/python bench/webhooks.py`` (about a minute; see docs/benchmarks.md).
Uses DATABASE_URL, default postgres://postgres@127.0.0.1:5432/cashback_bench_webhooks, which it
creates and migrates if needed (it never drops a database), and REDIS_URL, default
redis://127.0.0.1:6379/13, as the Celery broker of the server under test.

In one run, on the same PostgreSQL, with the same number of concurrent client processes:

(a) raw: psycopg, one ``INSERT`` of the event row and one ``COMMIT`` per event, into
    ``bench_webhook_raw``, a copy of the inbox table made with ``LIKE ... INCLUDING ALL`` (same
    columns, unique constraint, check constraints and partial indexes);
(b) app: ``POST /webhooks/visa/`` to the project served by gunicorn (gthread workers, HTTP/1.1
    keep-alive), each event a distinct id and correctly signed. Counted when the answer is
    ``202 {"status": "received"}``: the event was verified, parsed, stored and committed, and its
    processing enqueued to Redis (the ``ingest`` queue; no worker consumes it during the run, so
    processing never runs inline — CELERY_TASK_ALWAYS_EAGER is off). The queue is purged after.
(c) intake: the same, served by a second gunicorn with INBOX_ENQUEUE_ON_RECEIPT=false, so the
    answer comes once the event is verified, stored and committed, without the Celery publish
    (in production the every-minute sweep would then dispatch it). The issue's target applies to
    intake, "events stored and acknowledged"; (b) shows what the enqueue adds.

After each app measurement the bench checks that every acknowledged event is in the table.
Each figure is the best of BENCH_ROUNDS measurements, the order of the sides reversed every round.

Environment: BENCH_SECONDS (per measurement, default 4), BENCH_ROUNDS (default 2), BENCH_CLIENTS
(client processes, default "8"), BENCH_WORKERS (gunicorn workers, default 2), BENCH_THREADS
(threads per worker, default 4).
"""

import base64
import hashlib
import hmac
import http.client  # only to wait for the server's /healthz/
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
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench_webhooks")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTI=")
os.environ.setdefault("EXTERNAL_ID_KEY", "bench-only-external-id-key-not-a-secret-0123456789")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["HTTPS"] = "false"  # plain HTTP on 127.0.0.1: no redirect to https
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # enqueue only; processing must not run inline
os.environ["VISA_WEBHOOK_SECRET"] = SECRET = "whsec_bench_" + uuid.uuid4().hex

import psycopg  # noqa: E402
from bench_database import conninfo, database_config, ensure_database  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CLIENTS = [int(n) for n in os.environ.get("BENCH_CLIENTS", "8").split(",")]
WORKERS = int(os.environ.get("BENCH_WORKERS", "0"))  # 0: gunicorn.conf.py's (one per core)
THREADS = int(os.environ.get("BENCH_THREADS", "0"))  # 0: gunicorn.conf.py's
RUN = uuid.uuid4().hex[:8]
TARGET = 0.40
RAW_TABLE = "bench_webhook_raw"


CONFIG = database_config()
DSN = conninfo(CONFIG)


def migrate() -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (LIKE cashback_webhookevent INCLUDING ALL)")


# --- the events ---------------------------------------------------------------------------------


def event_body(event_id: str, n: int) -> bytes:
    """A card-network authorisation as the contract describes it (ARCHITECTURE.md)."""
    event = {
        "id": event_id,
        "type": "transaction.auth",
        "created": "2026-11-23T10:00:00Z",
        "data": {
            "id": f"txn_{event_id}",
            "amount": f"{100 + n % 900}.00",
            "currency": "NOK",
            "datetime": "2026-11-23T10:59:00+01:00",
            "card": {
                "token": f"ctok_bench_{n % 1000}",
                "firstNumbers": "424242",
                "lastNumbers": "4242",
                "scheme": "visa",
            },
            "merchant": {"id": "NM-BENCH", "name": "Bench Kaffe"},
            "location": {"id": f"ST-{n % 50}", "postcode": "0150", "countryCode": "NOR"},
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


def visa_signature(body: bytes) -> str:
    t = int(time.time())
    return f"t={t},v1={hmac.new(SECRET.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


# --- the two sides (each runs in a client process) ----------------------------------------------


RAW_INSERT = (
    f"INSERT INTO {RAW_TABLE} (source, event_id, event_type, account, payload, status, attempts, last_error,"
    " unmatched_reason, received_at, processed_at, next_attempt_at, created_at, updated_at)"
    " VALUES ('visa', %s, 'transaction.auth', '', %s::jsonb, 'received', 0, '', '', now(), NULL, NULL, now(), now())"
)


def raw_client(prefix: str):
    conn = psycopg.connect(DSN)  # one transaction per event: INSERT, then COMMIT

    def post(n: int) -> int:
        event_id = f"{prefix}:{n}"
        conn.execute(RAW_INSERT, [event_id, event_body(event_id, n).decode()])
        conn.commit()
        return 1

    return post, conn.close


def http_client(prefix: str, port: int):
    """HTTP/1.1 keep-alive over a plain socket: the client shares the two cores with the server, and
    http.client spends about twice the CPU per request that this does (docs/benchmarks.md)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = f"POST /webhooks/visa/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"

    def post(n: int) -> int:
        event_id = f"{prefix}:{n}"
        body = event_body(event_id, n)
        sock.sendall(
            f"{head}Visa-Signature: {visa_signature(body)}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        )
        answer = read_answer(sock)
        if not answer.startswith(b"HTTP/1.1 202 ") or not answer.endswith(b'{"status":"received"}'):
            raise RuntimeError(f"unexpected answer {answer[:300]!r}")
        return 1

    return post, sock.close


def read_answer(sock: socket.socket) -> bytes:
    """One whole response: its head, then Content-Length bytes of body."""
    answer = b""
    while (end := answer.find(b"\r\n\r\n")) < 0:
        answer += sock.recv(65536) or _closed()
    head = answer[:end].lower()
    start = head.index(b"content-length:") + len(b"content-length:")
    length = int(head[start:].split(b"\r\n", 1)[0])
    while len(answer) < end + 4 + length:
        answer += sock.recv(65536) or _closed()
    return answer


def _closed() -> bytes:
    raise ConnectionError("the server closed the connection")


# --- measuring ----------------------------------------------------------------------------------


def _client(side: str, port: int, index: int, prefix: str, start_at: float, results) -> None:
    try:
        post, close = raw_client(f"{prefix}:{index}") if side == "raw" else http_client(f"{prefix}:{index}", port)
        post(-1)  # connect and warm up before the clock starts
        done, n = 0, 0
        time.sleep(max(0.0, start_at - time.time()))
        stop_at = start_at + SECONDS
        while time.time() < stop_at:
            done += post(n)
            n += 1
        results.put((done + 1, time.time(), None))
        close()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, the run is then invalid
        results.put((0, time.time(), repr(exc)))


def measure(side: str, clients: int, port: int, label: str) -> tuple[float, str, int]:
    """Events per second; returns (rate, the id prefix of this measurement, events acknowledged
    including one warm-up event per client)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0
    prefix = f"bench:{RUN}:{label}"
    processes = [
        context.Process(target=_client, args=(side, port, index, prefix, start_at, results)) for index in range(clients)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=SECONDS + 120) for _ in processes]
    for process in processes:
        process.join()
    errors = [error for _, _, error in outcomes if error]
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed; first: {errors[0]}")
    acknowledged = sum(count for count, _, _ in outcomes)
    done = acknowledged - clients  # the warm-up events are stored but not timed
    return done / (max(end for _, end, _ in outcomes) - start_at), prefix, acknowledged


def stored_count(table: str, prefix: str) -> int:
    with psycopg.connect(DSN) as conn:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE event_id LIKE %s", [prefix + ":%"]).fetchone()[0]


# --- the server under test ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, *, enqueue: bool) -> subprocess.Popen:
    """gunicorn as production runs it (gunicorn.conf.py: gthread workers, keep-alive), on ``port``."""
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "cashback.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    command += ["--workers", str(WORKERS)] if WORKERS else []
    command += ["--threads", str(THREADS)] if THREADS else []
    command += ["--log-level", "warning"]
    env = {**os.environ, "INBOX_ENQUEUE_ON_RECEIPT": "true" if enqueue else "false"}
    server = subprocess.Popen(command, cwd=ROOT, env=env)
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


def _redis():
    from celery import Celery

    return Celery(broker=os.environ["REDIS_URL"]).connection_for_write().default_channel.client


def queued_event_ids() -> set[int]:
    """The event ids in the ``webhook_events_process`` messages waiting in the ``ingest`` queue."""
    ids: set[int] = set()
    for raw in _redis().lrange("ingest", 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        ids.update(args[0])
    return ids


def check_dispatched(prefix: str) -> None:
    """Every event (b) acknowledged is in a queued task within two seconds (the publisher's linger)."""
    with psycopg.connect(DSN) as conn:
        rows = conn.execute("SELECT id FROM cashback_webhookevent WHERE event_id LIKE %s", [prefix + ":%"])
        stored = {row[0] for row in rows}
    deadline = time.time() + 2
    while (missing := stored - queued_event_ids()) and time.time() < deadline:
        time.sleep(0.1)
    if missing:
        raise RuntimeError(f"app: {len(missing)} of {len(stored)} stored events were never enqueued")


def purge_queue() -> None:
    """Drop the processing tasks the run enqueued (no worker consumes this Redis database)."""
    _redis().delete("ingest")


def verdict(ratio: float) -> str:
    return "met" if ratio >= TARGET else "NOT met"


def main() -> None:
    began = time.perf_counter()
    ensure_database(CONFIG)
    print(f"migrating {CONFIG['NAME']} ...")
    migrate()
    ports = {"app": free_port(), "intake": free_port()}
    servers = [start_server(ports["app"], enqueue=True), start_server(ports["intake"], enqueue=False)]
    workers = f"{WORKERS or 'gunicorn.conf.py'} workers x {THREADS or 'gunicorn.conf.py'} threads"
    print(
        f"gunicorn: gthread, {workers}, keep-alive; (b) enqueues to {os.environ['REDIS_URL']} (no worker),"
        f" (c) does not enqueue; {os.cpu_count()} CPUs; client processes; best of {ROUNDS} x {SECONDS:g} s"
    )
    sides = ("raw", "app", "intake")
    try:
        print(f"\nevents/second\n{'clients':<8} {'(a) raw':>9} {'(b) app':>9} {'(c) intake':>11}   (b)/(a)  (c)/(a)")
        for clients in CLIENTS:
            best = dict.fromkeys(sides, 0.0)
            for round_number in range(ROUNDS):
                order = sides[round_number % 3 :] + sides[: round_number % 3]
                for side in order:
                    label = f"{clients}:{round_number}:{side}"
                    rate, prefix, acknowledged = measure(side, clients, ports.get(side, 0), label)
                    stored = stored_count(RAW_TABLE if side == "raw" else "cashback_webhookevent", prefix)
                    if stored != acknowledged:
                        raise RuntimeError(f"{side}: {acknowledged} acknowledged but {stored} stored")
                    if side == "app":
                        check_dispatched(prefix)
                        purge_queue()
                    best[side] = max(best[side], rate)
            app, intake = best["app"] / best["raw"], best["intake"] / best["raw"]
            rates = f"{best['raw']:>9.0f} {best['app']:>9.0f} {best['intake']:>11.0f}"
            print(f"{clients:<8} {rates}   {app:>6.0%}  {intake:>6.0%}")
            print(f"         target (b) and (c) >= {TARGET:.0%} of (a): {verdict(min(app, intake))}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        purge_queue()
    print(f"\ntook {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
