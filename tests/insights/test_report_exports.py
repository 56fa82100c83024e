"""Large downloads: prepared by a task on the `reports` queue, offered to the team with progress, expiring."""

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from insights import report_exports
from insights.export_models import ReportExport
from insights.report_selectors import ReportPeriod, TransactionFilters
from insights.tasks import report_export_build, report_exports_sweep
from tests.accounts.factories import UserFactory
from tests.insights.test_report_views import client_as, export_post, shop_with_sales

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REPORT_EXPORT_DIRECT_MAX_ROWS = 2


def test_the_task_goes_to_the_reports_queue():
    from cashback.celery import app

    route = app.amqp.router.route({}, "insights.tasks.report_export_build")
    assert route["queue"].name == "reports"
    assert "insights.tasks.report_exports_sweep" in {
        entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    }


def prepare(client, things, role="analyst", **extra):
    client = client_as(client, role, things["merchant"])
    url = reverse("reports:export", args=[things["merchant"].pk])
    return client, client.post(url, export_post(what="transactions", fmt="csv", **extra))


def test_a_large_export_is_prepared_in_the_background_and_offered_when_ready(
    client, django_capture_on_commit_callbacks
):
    things = shop_with_sales(purchases=5)
    with django_capture_on_commit_callbacks(execute=True):
        client, response = prepare(client, things)
    assert response.status_code == 302
    export = ReportExport.objects.get(merchant=things["merchant"], status=ReportExport.Status.READY)
    assert (export.rows_total, export.rows_done, export.percent) == (5, 5, 100)
    assert export.expires_at - export.ready_at == timedelta(days=django_settings.REPORT_EXPORT_TTL_DAYS)

    page = client.get(response["Location"]).content.decode()
    download_url = reverse("reports:export_download", args=[things["merchant"].pk, export.pk])
    assert download_url in page

    download = client.get(download_url)
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 6


def test_while_running_the_box_polls_and_shows_progress(client):
    things = shop_with_sales(purchases=5)
    client, _ = prepare(client, things, role="owner")  # on_commit not run: it stays queued
    export = ReportExport.objects.get(merchant=things["merchant"], status=ReportExport.Status.QUEUED)
    ReportExport.objects.filter(pk=export.pk).update(status="running", percent=40, rows_total=5, rows_done=2)
    box = client.get(reverse("reports:export_status", args=[things["merchant"].pk, export.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in box
    assert 'value="40"' in box
    assert "2 of 5 rows" in box
    not_yet = client.get(reverse("reports:export_download", args=[things["merchant"].pk, export.pk]))
    assert not_yet.status_code == 409


def test_two_clicks_start_one_export(client):
    things = shop_with_sales(purchases=5)
    client, _ = prepare(client, things, role="owner")
    url = reverse("reports:export", args=[things["merchant"].pk])
    client.post(url, export_post(what="transactions", fmt="csv"))
    assert ReportExport.objects.filter(merchant=things["merchant"]).exclude(status="failed").count() == 1


def test_the_build_is_safe_to_run_twice(client, django_capture_on_commit_callbacks):
    things = shop_with_sales(purchases=5)
    with django_capture_on_commit_callbacks(execute=True):
        prepare(client, things)
    export = ReportExport.objects.get(merchant=things["merchant"], status=ReportExport.Status.READY)
    name = export.file.name
    assert report_export_build.delay(export.pk).get() == "ready"
    export.refresh_from_db()
    assert export.file.name == name
    assert export.file.storage.exists(name)


def test_another_team_cannot_download_it(client, django_capture_on_commit_callbacks):
    things = shop_with_sales(purchases=5)
    with django_capture_on_commit_callbacks(execute=True):
        prepare(client, things)
    export = ReportExport.objects.get(merchant=things["merchant"], status=ReportExport.Status.READY)
    other = shop_with_sales(purchases=0)
    client.logout()
    stranger = client_as(client, "owner", other["merchant"])
    # Not through their own merchant's address, nor through this one's.
    assert stranger.get(reverse("reports:export_download", args=[other["merchant"].pk, export.pk])).status_code == 404
    assert stranger.get(reverse("reports:export_download", args=[things["merchant"].pk, export.pk])).status_code == 404


def test_an_expired_file_is_gone_410_and_the_sweep_deletes_it_once(client, django_capture_on_commit_callbacks):
    things = shop_with_sales(purchases=5)
    with django_capture_on_commit_callbacks(execute=True):
        client, _ = prepare(client, things)
    export = ReportExport.objects.get(merchant=things["merchant"], status=ReportExport.Status.READY)
    name = export.file.name
    ReportExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    url = reverse("reports:export_download", args=[things["merchant"].pk, export.pk])

    assert client.get(url).status_code == 410
    assert report_exports_sweep.delay().get() == 1
    assert report_exports_sweep.delay().get() == 0
    export.refresh_from_db()
    assert export.status == ReportExport.Status.EXPIRED
    assert not export.file
    assert not export.file.storage.exists(name)
    assert client.get(url).status_code == 410


def test_a_failed_build_is_marked_failed(monkeypatch):
    things = shop_with_sales(purchases=1)
    today = timezone.localdate()
    filters = TransactionFilters(period=ReportPeriod(start=today - timedelta(days=5), end=today))
    export, started = report_exports.report_export_start(
        merchant=things["merchant"], user=UserFactory(), fmt="csv", filters=filters
    )
    assert started

    def boom(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_exports, "transaction_rows", boom)
    with pytest.raises(RuntimeError):
        report_export_build.delay(export.pk).get()
    export.refresh_from_db()
    assert export.status == ReportExport.Status.FAILED
