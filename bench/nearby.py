"""Nearby-offer search as the mobile app calls it: GET /api/v1/offers/ over HTTP, gunicorn, PostgreSQL.

Run: ``.venv/bin/python bench/nearby.py`` (a few minutes the first time, most of it seeding 100 000
shops; later runs reuse the databases). See docs/benchmarks.md.

Two databases, each created, migrated and seeded once if needed (never dropped): DATABASE_URL's name
(default ``cashback_bench_nearby``) with ``_1k`` and ``_100k`` appended, holding 1 000 and 100 000 shops
spread over Norway — clustered around its towns in proportion to their population, a tenth scattered
over the whole country's bounding box — belonging to single-shop merchants and to chains. About 85 % of
the merchants have a live offer (some two); some are suspended and some offers paused, as in life.

For each database a gunicorn serves the project (gunicorn.conf.py's workers and threads); one client
signs in as a consumer through allauth's headless API (as the app does) and, over one keep-alive
connection, asks ``GET /api/v1/offers/?lat=..&lng=..&radius_km=..`` at random points drawn like the
shops (people search where they are), after a warm-up. Every answer must be 200 with offers sorted by
distance. It prints p50 and p95 for each size and their ratio, then ONE JSON line:
``{"p50_ms_1k", "p95_ms_1k", "p50_ms_100k", "p95_ms_100k", "cost_ratio", ...}``.

Targets (issue 14): p50 under 20 ms at 100 000 shops; 100 000 costs at most 3x what 1 000 costs (p50).

Environment: BENCH_REQUESTS (timed requests per size, default 1000), BENCH_WARMUP (default 200),
BENCH_RADIUS_KM (default 10, the API's default), BENCH_SEED (random seed, default 14).
"""

import http.client
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench_nearby")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTI=")
os.environ.setdefault("EXTERNAL_ID_KEY", "bench-only-external-id-key-not-a-secret-0123456789")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["HTTPS"] = "false"  # plain HTTP on 127.0.0.1: no redirect to https

from bench_database import database_config, ensure_database  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "200"))
RADIUS_KM = float(os.environ.get("BENCH_RADIUS_KM", "10"))
SEED = int(os.environ.get("BENCH_SEED", "14"))
SIZES = {"1k": 1_000, "100k": 100_000}
TARGET_P50_MS = 20.0
TARGET_RATIO = 3.0
EMAIL = "bench-consumer@nearby.example"
PASSWORD = "Bench-Nearby-Password-2026"

# Towns of Norway: (latitude, longitude, share of the people, spread in km).
TOWNS = [
    (59.9139, 10.7522, 0.28, 7.0),  # Oslo
    (60.3913, 5.3221, 0.11, 5.0),  # Bergen
    (63.4305, 10.3951, 0.08, 4.0),  # Trondheim
    (58.9700, 5.7331, 0.09, 5.0),  # Stavanger and Sandnes
    (59.7441, 10.2045, 0.04, 3.0),  # Drammen
    (59.2181, 10.9298, 0.04, 3.0),  # Fredrikstad and Sarpsborg
    (58.1599, 8.0182, 0.04, 3.0),  # Kristiansand
    (69.6492, 18.9553, 0.03, 2.5),  # Tromsø
    (62.4722, 6.1549, 0.02, 2.0),  # Ålesund
    (67.2804, 14.4049, 0.02, 2.0),  # Bodø
    (59.2675, 10.4076, 0.02, 2.0),  # Tønsberg
    (60.7945, 11.0680, 0.02, 2.0),  # Hamar
    (61.1153, 10.4662, 0.01, 1.5),  # Lillehammer
    (59.4138, 5.2680, 0.01, 1.5),  # Haugesund
    (58.4615, 8.7722, 0.01, 1.5),  # Arendal
    (60.7957, 10.6916, 0.01, 1.5),  # Gjøvik
    (62.7375, 7.1591, 0.01, 1.5),  # Molde
    (68.7986, 16.5415, 0.01, 1.5),  # Harstad
    (69.9689, 23.2716, 0.01, 1.5),  # Alta
]
SCATTERED = 0.10  # the rest of the shops: anywhere in the bounding box below
NORWAY_BOX = (57.95, 71.18, 4.6, 31.1)  # south, north, west, east
CATEGORIES = ["5411", "5812", "5814", "5651", "5732", "5912", "5712", "5941", "5942", "5541", "7011", "7399"]


def random_point(rng: random.Random) -> tuple[float, float]:
    """A point where a shop (or a person looking for one) might be, to six decimals as the app sends it
    (docs/api.md: longer digit runs in a query may be refused as card numbers by the door's guard)."""
    if rng.random() < SCATTERED:
        south, north, west, east = NORWAY_BOX
        return round(rng.uniform(south, north), 6), round(rng.uniform(west, east), 6)
    lat, lng, _, spread_km = rng.choices(TOWNS, weights=[town[2] for town in TOWNS])[0]
    dlat = rng.gauss(0, spread_km) / 111.32
    dlng = rng.gauss(0, spread_km) / (111.32 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lng + dlng, 6)


# --- seeding (runs in a child process with DATABASE_URL set to the database to seed) -------------


def seed(shops: int) -> None:
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Consent, User
    from campaigns.models import Offer, OfferStatus
    from merchants.models import Location, Merchant

    if Location.objects.count() == shops and User.objects.filter(email=EMAIL).exists():
        print(f"  {shops} shops already there")
        return
    began = time.perf_counter()
    rng = random.Random(SEED + shops)
    now = timezone.now()
    with transaction.atomic():
        Offer.objects.all().delete()
        Location.objects.all().delete()
        Merchant.objects.all().delete()
        chains = max(5, shops // 200)
        owners: list[int] = []  # merchant index of each shop; the first `chains` merchants are chains
        merchants = chains
        for _ in range(shops):
            if rng.random() < 0.3:
                owners.append(rng.randrange(chains))
            else:
                owners.append(merchants)
                merchants += 1
        rows = []
        for n in range(merchants):
            suspended = rng.random() < 0.04
            rows.append(
                Merchant(
                    legal_name=f"Bench merchant {n} AS",
                    display_name=f"{'Kjede' if n < chains else 'Butikk'} {n}",
                    organisation_number=f"{900_000_000 + n}",
                    country="NO",
                    currency="NOK",
                    category_code=rng.choice(CATEGORIES),
                    contact_name="Bench",
                    contact_email=f"m{n}@bench.example",
                    status=Merchant.Status.SUSPENDED if suspended else Merchant.Status.APPROVED,
                    status_reason="Bench: suspended" if suspended else "",
                    approved_at=now,
                )
            )
        created = Merchant.objects.bulk_create(rows, batch_size=5_000)
        ids = [merchant.pk for merchant in created]
        locations = []
        for n, owner in enumerate(owners):
            lat, lng = random_point(rng)
            locations.append(
                Location(
                    merchant_id=ids[owner],
                    name=f"Shop {n}",
                    street=f"Storgata {n % 200 + 1}",
                    postcode="0150",
                    city="Norge",
                    country="NO",
                    latitude=Decimal(f"{lat:.6f}"),
                    longitude=Decimal(f"{lng:.6f}"),
                    network_merchant_id=f"BN{owner}",
                    network_store_id=f"BS{n}",
                )
            )
        Location.objects.bulk_create(locations, batch_size=5_000)
        offers = []
        for merchant_id in ids:
            if rng.random() >= 0.85:
                continue
            for number in range(2 if rng.random() < 0.1 else 1):
                offers.append(
                    Offer(
                        merchant_id=merchant_id,
                        title=f"{rng.choice([5, 8, 10, 12, 15])} % back",
                        reward_type="percent",
                        percent=Decimal(rng.choice([5, 8, 10, 12, 15])),
                        currency="NOK",
                        starts_at=now - timedelta(days=30),
                        ends_at=now + timedelta(days=3650),
                        status=OfferStatus.PAUSED if rng.random() < 0.05 else OfferStatus.LIVE,
                        audience=rng.choice(["everyone"] * 6 + ["new_customers", "returning_customers"]),
                        max_rewards_per_customer=rng.choice([None, None, 3]),
                        min_spend_minor=rng.choice([0, 0, 10_000]),
                        days_of_week=[] if number == 0 else [0, 1, 2, 3, 4],
                    )
                )
        Offer.objects.bulk_create(offers, batch_size=5_000)
        user = User.objects.filter(email=EMAIL).first() or User.objects.create_user(email=EMAIL, password=PASSWORD)
        Consent.objects.get_or_create(
            user=user, kind=Consent.Kind.TERMS, defaults={"granted": True, "version": settings.TERMS_VERSION}
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  seeded {shops} shops, {merchants} merchants, {len(offers)} offers in {time.perf_counter() - began:.0f} s")


# --- the server and the client -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, env: dict) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("gunicorn")), "cashback.wsgi:application"]
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


def sign_in(conn: http.client.HTTPConnection) -> str:
    body = json.dumps({"email": EMAIL, "password": PASSWORD})
    conn.request("POST", "/_allauth/app/v1/auth/login", body=body, headers={"Content-Type": "application/json"})
    answer = conn.getresponse()
    data = json.loads(answer.read())
    token = data.get("meta", {}).get("session_token")
    if answer.status != 200 or not token:
        sys.exit(f"signing in failed: {answer.status} {data}")
    return token


def measure(port: int, rng: random.Random) -> tuple[list[float], int, list[float]]:
    """Milliseconds per timed request, how many offers the answers held in all, and milliseconds per
    ``GET /api/v1/wallet/`` (the floor: a signed-in request that reads a little, on the same server)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Session-Token": sign_in(conn), "Accept": "application/json"}
    timings, found, floor = [], 0, []
    for n in range(WARMUP + REQUESTS):
        lat, lng = random_point(rng)
        path = f"/api/v1/offers/?lat={lat}&lng={lng}&radius_km={RADIUS_KM:g}"
        began = time.perf_counter()
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        body = answer.read()
        elapsed = (time.perf_counter() - began) * 1000
        if answer.status != 200:
            sys.exit(f"{path}: {answer.status} {body[:300]!r}")
        results = json.loads(body)["results"]
        distances = [offer["distance_m"] for offer in results]
        if distances != sorted(distances) or any(d > RADIUS_KM * 1000 + 1 for d in distances):
            sys.exit(f"{path}: offers not sorted by distance within the radius: {distances}")
        if n >= WARMUP:
            timings.append(elapsed)
            found += len(results)
            began = time.perf_counter()
            conn.request("GET", "/api/v1/wallet/", headers=headers)
            answer = conn.getresponse()
            answer.read()
            floor.append((time.perf_counter() - began) * 1000)
            if answer.status != 200:
                sys.exit(f"/api/v1/wallet/: {answer.status}")
    conn.close()
    return timings, found, floor


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    began = time.perf_counter()
    base = database_config()
    figures: dict[str, dict] = {}
    for label, shops in SIZES.items():
        url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{base['NAME']}_{label}"
        env = {**os.environ, "DATABASE_URL": url}
        ensure_database({**base, "NAME": f"{base['NAME']}_{label}"})
        print(f"{label}: migrating and seeding {base['NAME']}_{label} ...")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run([sys.executable, __file__, "--seed", str(shops)], cwd=ROOT, env=env, check=True)
        port = free_port()
        server = start_server(port, env)
        try:
            timings, found, floor = measure(port, random.Random(SEED))
        finally:
            server.terminate()
            server.wait(timeout=30)
        figures[label] = {
            "p50": statistics.median(timings),
            "p95": percentile(timings, 0.95),
            "offers": found / len(timings),
            "floor": statistics.median(floor),
        }

    ratio = figures["100k"]["p50"] / figures["1k"]["p50"]
    print(
        f"\nGET /api/v1/offers/?lat&lng&radius_km={RADIUS_KM:g}: {REQUESTS} requests per size after {WARMUP} warm-up,"
    )
    print(f"one keep-alive client, gunicorn.conf.py's workers; {os.cpu_count()} CPUs\n")
    print(f"{'shops':>8} {'p50 ms':>8} {'p95 ms':>8} {'offers/answer':>14} {'floor p50 ms':>13}")
    for label, shops in SIZES.items():
        row = figures[label]
        print(f"{shops:>8} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['offers']:>14.1f} {row['floor']:>13.1f}")
    print("(floor: GET /api/v1/wallet/ between the searches, on the same connection: what any signed-in request costs)")
    p50_ok = figures["100k"]["p50"] < TARGET_P50_MS
    print(f"\np50 at 100 000 shops < {TARGET_P50_MS:g} ms: {'met' if p50_ok else 'NOT met'}")
    ratio_ok = ratio <= TARGET_RATIO
    print(f"cost ratio (p50 100 000 / 1 000) {ratio:.2f} <= {TARGET_RATIO:g}: {'met' if ratio_ok else 'NOT met'}")
    print(f"took {time.perf_counter() - began:.0f} s\n")
    print(
        json.dumps(
            {
                "p50_ms_1k": round(figures["1k"]["p50"], 2),
                "p95_ms_1k": round(figures["1k"]["p95"], 2),
                "p50_ms_100k": round(figures["100k"]["p50"], 2),
                "p95_ms_100k": round(figures["100k"]["p95"], 2),
                "cost_ratio": round(ratio, 2),
                "offers_per_answer_1k": round(figures["1k"]["offers"], 1),
                "offers_per_answer_100k": round(figures["100k"]["offers"], 1),
                "floor_p50_ms_1k": round(figures["1k"]["floor"], 2),
                "floor_p50_ms_100k": round(figures["100k"]["floor"], 2),
                "radius_km": RADIUS_KM,
                "requests": REQUESTS,
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seed":
        seed(int(sys.argv[2]))
    else:
        main()
