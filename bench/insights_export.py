"""A 100 000-row transactions CSV for one merchant, prepared as the `reports` task prepares it: time and
the process's peak memory above its idle size.

Run: ``.venv/bin/python bench/insights_export.py`` (the first run creates, migrates and bulk-loads its
own database, DATABASE_URL's name, default ``cashback_bench_export``; later runs reuse it). See
docs/benchmarks.md.

The merchant has BENCH_ROWS purchases (default 100 000) over the last 90 days at 5 shops from 5 000
customers, each rewarded by one of 3 offers. The export runs ``insights.report_exports.report_export_build``
(server-side cursor, rows written one by one to a temporary file, stored whole at the end). Memory: the
peak resident size (VmHWM) is reset through /proc/self/clear_refs after the idle reading, then read
after the export. Target (issue 15): no more than 50 MB over idle. Last line: one JSON object.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashback_bench_export")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTI=")
os.environ.setdefault("EXTERNAL_ID_KEY", "bench-only-external-id-key-not-a-secret-0123456789")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ.pop("REDIS_URL", None)

from bench_database import database_config, ensure_database  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
CUSTOMERS = 5_000
TARGET_MB = 50.0
MERCHANT_NAME = "Bench Export AS"


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _seed() -> None:
    from django.utils import timezone

    from accounts.models import User
    from campaigns.models import Offer, OfferStatus, Purchase, Reward, RewardKind
    from merchants.models import Location, Merchant

    merchant = Merchant.objects.filter(legal_name=MERCHANT_NAME).first()
    if merchant is not None and Purchase.objects.filter(merchant=merchant).count() >= ROWS:
        return
    print(f"seeding {ROWS} purchases ...", file=sys.stderr)
    now = timezone.now()
    merchant = Merchant.objects.create(
        legal_name=MERCHANT_NAME,
        display_name="Bench Export",
        slug="bench-export",
        organisation_number="810000008",
        country="NO",
        currency="NOK",
        category_code="5812",
        contact_name="Bench",
        contact_email="bench@export.example",
        contact_phone="+4722000000",
        status="approved",
        approved_at=now,
    )
    shops = Location.objects.bulk_create(
        Location(merchant=merchant, name=f"Shop {n}", street=f"Gate {n}", postcode="0150", city="Oslo", country="NO")
        for n in range(5)
    )
    offers = [
        Offer.objects.create(
            merchant=merchant,
            title=f"Offer {n}",
            percent=10,
            currency="NOK",
            starts_at=now - timedelta(days=120),
            ends_at=now + timedelta(days=30),
            status=OfferStatus.LIVE,
        )
        for n in range(3)
    ]
    users = User.objects.bulk_create(
        User(email=f"bench-export-{n}@example.com", birth_year=1950 + n % 50, city="Oslo") for n in range(CUSTOMERS)
    )
    batch = 10_000
    for start in range(0, ROWS, batch):
        purchases = Purchase.objects.bulk_create(
            Purchase(
                source=Purchase.Source.DEMO,
                external_id=f"bench-export-{n}",
                user=users[n % CUSTOMERS],
                merchant=merchant,
                location=shops[n % 5],
                amount_minor=10_000 + n % 50_000,
                cleared_minor=10_000 + n % 50_000,
                currency="NOK",
                occurred_at=now - timedelta(minutes=n * 1.2),
                status=Purchase.Status.CLEARED,
            )
            for n in range(start, min(start + batch, ROWS))
        )
        Reward.objects.bulk_create(
            Reward(
                kind=RewardKind.OFFER,
                offer=offers[p.pk % 3],
                purchase=p,
                user_id=p.user_id,
                amount_minor=p.amount_minor // 10,
                decided_minor=p.amount_minor // 10,
                currency="NOK",
            )
            for p in purchases
        )


def main() -> None:
    config = database_config()
    ensure_database(config)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)

    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from accounts.models import User
    from insights import report_exports
    from insights.export_models import ReportExport
    from insights.report_selectors import ReportPeriod, TransactionFilters
    from merchants.models import Merchant

    _seed()
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-export-")
    merchant = Merchant.objects.get(legal_name=MERCHANT_NAME)
    user = User.objects.filter(email="bench-export-0@example.com").get()
    today = timezone.localdate()
    filters = TransactionFilters(period=ReportPeriod(start=today - timedelta(days=365), end=today))

    def one_export() -> ReportExport:
        ReportExport.objects.filter(merchant=merchant).delete()
        export, _ = report_exports.report_export_start(merchant=merchant, user=user, fmt="csv", filters=filters)
        built = report_exports.report_export_build(export_id=export.pk)
        assert built is not None and built.status == ReportExport.Status.READY
        return built

    # Warm-up on a small period, so imports and caches count as idle.
    small = TransactionFilters(period=ReportPeriod(start=today, end=today))
    export, _ = report_exports.report_export_start(merchant=merchant, user=user, fmt="csv", filters=small)
    report_exports.report_export_build(export_id=export.pk)

    idle_kb = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current size
    started = time.perf_counter()
    built = one_export()
    seconds = time.perf_counter() - started
    peak_kb = _status_kb("VmHWM")
    over_mb = round(max(0, peak_kb - idle_kb) / 1024, 1)
    result = {
        "export_rows": built.rows_total,
        "export_seconds": round(seconds, 2),
        "export_rows_per_second": round(built.rows_total / seconds),
        "export_file_mb": round(built.size_bytes / 1024 / 1024, 1),
        "idle_rss_mb": round(idle_kb / 1024, 1),
        "export_peak_rss_mb": round(peak_kb / 1024, 1),
        "export_peak_mb_over_idle": over_mb,
        "target_peak_mb_over_idle": TARGET_MB,
        "within_target": over_mb <= TARGET_MB,
    }
    print(f"{built.rows_total} rows in {seconds:.1f} s; peak {over_mb} MB over idle ({idle_kb / 1024:.0f} MB)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
