"""Geofence reports as the mobile app sends them: POST /api/v1/geofence/ over HTTP, gunicorn, PostgreSQL.

Run: ``.venv/bin/python bench/geofence.py`` (the first run seeds 100 000 shops, a few minutes; later
runs reuse the database). The shops, merchants and offers are bench/nearby.py's (spread over Norway
like its people); the consumer has the location consent and a phone registered for push, so every
report that finds a shop not yet pushed today takes the push path (claim, notification, delivery row,
enqueue on the broker) — the path a previous attempt measured at 80 ms.

A gunicorn serves the project on 127.0.0.1:$BENCH_PORT (default 8105); one client signs in through
allauth's headless API and, over one keep-alive connection, posts ``{"lat", "lng", "accuracy_m"}`` at
random points drawn like the shops, after a warm-up; every answer must be 200. It prints p50 and p95
and the machine's load average, then ONE JSON line with ``"p50_ms_100k"``, ``"p95_ms_100k"``, how many
reports matched a shop and how many pushed. Target (issue 17): p50 under 20 ms at 100 000 shops.

Environment: DATABASE_URL (default ``cashback_bench_geofence``; ``_100k`` is appended), REDIS_URL (the
broker the push tasks go to; default redis://127.0.0.1:6379/15), BENCH_REQUESTS (default 1000),
BENCH_WARMUP (default 200), BENCH_SEED (default 17).
"""

import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench_geofence")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTI=")
os.environ.setdefault("EXTERNAL_ID_KEY", "bench-only-external-id-key-not-a-secret-0123456789")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["HTTPS"] = "false"

import nearby  # noqa: E402 - bench/nearby.py: the seeding, the server and the sign-in
from bench_database import database_config, ensure_database  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "200"))
SEED = int(os.environ.get("BENCH_SEED", "17"))
PORT = int(os.environ.get("BENCH_PORT", "8105"))
SHOPS = 100_000
TARGET_P50_MS = 20.0


def prepare_consumer() -> None:
    """The bench consumer (seeded by nearby.seed) consents to location and has a phone for push."""
    import django

    django.setup()
    from accounts.models import Device, User
    from accounts.services import location_consent_set
    from geofencing.models import NearbyPush
    from notifications.models import Notification

    user = User.objects.get(email=nearby.EMAIL)
    location_consent_set(user=user, granted=True)
    Device.objects.update_or_create(token="bench-phone", defaults={"user": user, "platform": "android"})
    # Each run starts with nothing pushed today: no claim, and no notification whose key a claim of this
    # run would meet (a run that met them would write no notification and enqueue nothing, and measure less).
    NearbyPush.objects.filter(user=user).delete()
    Notification.objects.filter(user=user, kind="nearby_offer").delete()


def start_server(port: int, env: dict) -> subprocess.Popen:
    """gunicorn run by this interpreter (``-m``), so it imports this virtualenv's packages."""
    command = [sys.executable, "-m", "gunicorn", "cashback.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
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


def measure(port: int, rng: random.Random) -> tuple[list[float], int, int, list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Session-Token": nearby.sign_in(conn), "Content-Type": "application/json"}
    timings, matched, pushed, floor = [], 0, 0, []
    for n in range(WARMUP + REQUESTS):
        lat, lng = nearby.random_point(rng)
        body = json.dumps({"lat": f"{lat:.6f}", "lng": f"{lng:.6f}", "accuracy_m": 15})
        began = time.perf_counter()
        conn.request("POST", "/api/v1/geofence/", body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        elapsed = (time.perf_counter() - began) * 1000
        if answer.status != 200:
            sys.exit(f"geofence: {answer.status} {data[:300]!r}")
        if n >= WARMUP:
            result = json.loads(data)
            timings.append(elapsed)
            matched += bool(result["shops"])
            pushed += result["pushed_location_id"] is not None
            # The floor: what any signed-in request costs on this server and machine right now.
            began = time.perf_counter()
            conn.request("GET", "/api/v1/me/", headers=headers)
            conn.getresponse().read()
            floor.append((time.perf_counter() - began) * 1000)
    conn.close()
    return timings, matched, pushed, floor


def main() -> None:
    began = time.perf_counter()
    base = database_config()
    name = f"{base['NAME']}_100k"
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
    env = {**os.environ, "DATABASE_URL": url, "API_THROTTLES": "false"}
    ensure_database({**base, "NAME": name})
    print(f"migrating and seeding {name} ...")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "nearby.py"), "--seed", str(SHOPS)], cwd=ROOT, env=env, check=True
    )
    subprocess.run([sys.executable, __file__, "--prepare"], cwd=ROOT, env=env, check=True)
    server = start_server(PORT, env)
    try:
        timings, matched, pushed, floor = measure(PORT, random.Random(SEED))
    finally:
        server.terminate()
        server.wait(timeout=30)
    p50, p95 = statistics.median(timings), nearby.percentile(timings, 0.95)
    load = os.getloadavg()
    print(
        f"\nPOST /api/v1/geofence/ at {SHOPS} shops: {REQUESTS} reports after {WARMUP} warm-up, one keep-alive client"
    )
    print(f"p50 {p50:.1f} ms, p95 {p95:.1f} ms; {matched} matched a shop, {pushed} pushed")
    print(f"floor (GET /api/v1/me/ between reports) p50 {statistics.median(floor):.1f} ms")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs (shared machine)")
    verdict = "met" if p50 < TARGET_P50_MS else "NOT met"
    print(f"p50 < {TARGET_P50_MS:g} ms: {verdict}; took {time.perf_counter() - began:.0f} s\n")
    print(
        json.dumps(
            {
                "p50_ms_100k": round(p50, 2),
                "p95_ms_100k": round(p95, 2),
                "reports": REQUESTS,
                "matched": matched,
                "pushed": pushed,
                "floor_p50_ms": round(statistics.median(floor), 2),
                "load_avg_1m": round(load[0], 2),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--prepare":
        prepare_consumer()
    else:
        main()
