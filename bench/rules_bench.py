"""Rules engine: evaluating one purchase with 10 live offers in the system, then with 10,000.

Run: ``.venv/bin/python bench/rules_bench.py`` (well under two minutes). Uses DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/cashback_bench_rules, which it creates and
migrates if needed. The database is the benchmark's own: each run deletes the campaigns and
merchants rows left by the previous run.

What is timed is the whole step 3 of the main flow for one purchase, as the reward pipeline
runs it: ``live_offers_for_merchant`` (the indexed lookup), ``customer_context`` and
``rules.evaluate``. The purchase's merchant has 5 live offers in both scenarios:

1. 10 live offers in the whole system (2 merchants x 5);
2. 10,000 live offers across 2,000 merchants (5 each), plus 2,000 ended and 2,000 draft ones.

It prints the median (and 90th percentile) of REPEATS evaluations for both and the ratio,
which the issue requires to be at most 2: the lookup goes through the partial index
``offer_live_by_merchant``, so the cost follows the merchant's own offers, not the system's.

Environment: BENCH_REPEATS (default 400).
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench_rules")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTI=")
os.environ.setdefault("EXTERNAL_ID_KEY", "bench-only-external-id-key-not-a-secret-0123456789")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import environ  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "400"))
MERCHANTS = 2_000
OFFERS_PER_MERCHANT = 5


def ensure_database() -> None:
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    server = {
        "dbname": "postgres",
        "host": config.get("HOST") or "127.0.0.1",
        "port": str(config.get("PORT") or 5432),
        "user": config.get("USER") or "postgres",
    }
    if config.get("PASSWORD"):
        server["password"] = config["PASSWORD"]
    with psycopg.connect(**server, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def reset() -> None:
    from campaigns.models import Offer, Purchase, Reward
    from merchants.models import Merchant

    Reward.objects.all().delete()
    Purchase.objects.all().delete()
    Offer.objects.all().delete()
    Merchant.objects.all().delete()


def make_merchants(count: int, start: int) -> list:
    from merchants.models import Merchant

    return Merchant.objects.bulk_create(
        Merchant(
            legal_name=f"Bench merchant {n} AS",
            display_name=f"Bench {n}",
            organisation_number=f"{90_000_000 + n}",
            country="NO",
            currency="NOK",
            category_code="5812",
            contact_name="Bench",
            contact_email=f"bench{n}@example.com",
            status="approved",
        )
        for n in range(start, start + count)
    )


def make_offers(merchants: list, *, per_merchant: int, status: str = "live", ended: bool = False) -> int:
    from django.utils import timezone

    from campaigns.models import Offer

    now = timezone.now()
    starts = now - timedelta(days=60 if ended else 1)
    ends = now - timedelta(days=1) if ended else now + timedelta(days=30)
    offers = [
        Offer(
            merchant=merchant,
            title=f"Offer {i}",
            reward_type="percent",
            percent=Decimal(5 + i),
            currency="NOK",
            starts_at=starts,
            ends_at=ends,
            status=status,
            min_spend_minor=1_000 * i,
            max_reward_per_purchase_minor=50_000,
            budget_total_minor=10_000_000,
            days_of_week=[0, 1, 2, 3, 4, 5, 6],
            stackable=i == 0,
        )
        for merchant in merchants
        for i in range(per_merchant)
    ]
    Offer.objects.bulk_create(offers, batch_size=2_000)
    return len(offers)


def time_evaluation(merchant, user) -> tuple[float, float, int]:
    """Median and p90 in milliseconds of lookup + customer context + evaluate; and offers seen."""
    from django.utils import timezone

    from campaigns.rules import PurchaseFacts, evaluate
    from campaigns.selectors import customer_context, live_offers_for_merchant

    samples = []
    seen = 0
    for _ in range(REPEATS):
        at = timezone.now()
        started = time.perf_counter()
        offers = live_offers_for_merchant(merchant_id=merchant.pk, at=at)
        customer = customer_context(user=user, merchant_id=merchant.pk, before=at)
        facts = PurchaseFacts(amount_minor=24_900, currency="NOK", occurred_at=at, merchant_id=merchant.pk)
        decisions = evaluate(facts, offers, customer)
        samples.append((time.perf_counter() - started) * 1000)
        seen = len(decisions)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)], seen


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_offer")


def main() -> None:
    begun = time.perf_counter()
    ensure_database()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns.models import Offer

    reset()
    user, _ = get_user_model().objects.get_or_create(email="bench-rules@example.com")

    small = make_merchants(2, start=0)
    make_offers(small, per_merchant=OFFERS_PER_MERCHANT)
    target = small[0]
    analyze()
    time_evaluation(target, user)  # warm-up: connection, query plans, imports
    small_median, small_p90, seen = time_evaluation(target, user)
    small_live = Offer.objects.filter(status="live").count()

    big = make_merchants(MERCHANTS - 2, start=2)
    make_offers(big, per_merchant=OFFERS_PER_MERCHANT)
    make_offers(big[:400], per_merchant=OFFERS_PER_MERCHANT, status="ended", ended=True)
    make_offers(big[400:800], per_merchant=OFFERS_PER_MERCHANT, status="draft")
    analyze()
    time_evaluation(target, user)
    big_median, big_p90, seen_big = time_evaluation(target, user)
    big_live = Offer.objects.filter(status="live").count()
    merchants = len(small) + len(big)

    print(f"Offers evaluated per purchase: {seen} (small), {seen_big} (large); {REPEATS} repetitions each")
    print(f"{small_live:>6} live offers in the system:         median {small_median:.3f} ms, p90 {small_p90:.3f} ms")
    print(
        f"{big_live:>6} live offers, {merchants} merchants: median {big_median:.3f} ms, p90 {big_p90:.3f} ms"
        f" (+{Offer.objects.exclude(status='live').count()} not live)"
    )
    ratio = big_median / small_median
    verdict = "OK" if ratio <= 2 else "TOO SLOW"
    print(f"Ratio (large / small, medians): {ratio:.2f}  (required: at most 2.00) -> {verdict}")
    now = timezone.now()
    plan = (
        Offer.objects.filter(merchant_id=target.pk, status="live", starts_at__lte=now, ends_at__gt=now)
        .order_by("id")
        .explain()
    )
    index = next((name for name in ("offer_live_by_merchant", "offer_merchant_status") if name in plan), "none")
    print(f"Index used by the lookup: {index}")
    print(f"Total run time: {time.perf_counter() - begun:.1f} s")
    if ratio > 2:
        sys.exit(1)


if __name__ == "__main__":
    main()
