"""Download my data: every section present, JSON and CSV agree, nobody else's data, the task is
safe to run twice, the link expires and the sweep deletes the file (F-A5, docs/privacy.md)."""

import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from accounts import data_export, privacy_registry
from accounts.data_export import csv_cell
from accounts.errors import DataExportExpiredError, DataExportNotFoundError, DataExportNotReadyError
from accounts.models import DataExport
from accounts.tasks import data_export_build, data_exports_sweep
from tests.accounts.factories import UserFactory
from tests.accounts.privacy_scenarios import person_with_history

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
OUR_APPS = {config.label for config in apps.get_app_configs() if Path(config.path).parent == ROOT}


def _built(user) -> tuple[DataExport, zipfile.ZipFile]:
    export, started = data_export.data_export_start(user=user)
    assert started
    export = data_export.data_export_build(export_id=export.pk)
    assert export.status == DataExport.Status.READY
    with export.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    return export, archive


def test_every_user_foreign_key_of_our_apps_is_exported_or_excluded_with_a_reason():
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey | models.OneToOneField) and field.related_model is user_model
    }
    covered = privacy_registry.covered_fields()
    excluded = privacy_registry.not_exported()

    assert found - covered - set(excluded) == set()
    assert all(reason.strip() for reason in excluded.values())
    # And no registration names a field that does not exist (a renamed field would hide a gap).
    assert (covered | set(excluded)) - found == set()


def test_the_export_holds_every_section_as_json_and_csv_with_a_readme():
    history = person_with_history(email="ada@example.com", full_name="Ada Lovelace", city="Oslo")

    _export, archive = _built(history.user)

    names = set(archive.namelist())
    for section in privacy_registry.sections():
        assert {f"{section.name}.json", f"{section.name}.csv"} <= names
    readme = archive.read("README.txt").decode()
    assert all(f"{section.name}.json" in readme for section in privacy_registry.sections())
    profile = json.loads(archive.read("profile.json"))
    assert profile[0]["email"] == "ada@example.com" and profile[0]["city"] == "Oslo"
    for name in ("consents", "cards", "purchases", "rewards", "ledger", "payouts", "donations", "referrals"):
        assert json.loads(archive.read(f"{name}.json")), f"{name} is empty"
    purchases = json.loads(archive.read("purchases.json"))
    assert {row["cashback_earned"] for row in purchases} == {"200.00", "50.00"}
    cards = json.loads(archive.read("cards.json"))
    assert cards[0]["first_six"] == "424242" and len(cards[0]["last_four"]) == 4
    assert "network_token" not in cards[0]
    assert history.user.cards.get().network_token not in archive.read("cards.csv").decode()


def test_csv_and_json_hold_the_same_rows():
    history = person_with_history()

    _export, archive = _built(history.user)

    for section in privacy_registry.sections():
        rows = json.loads(archive.read(f"{section.name}.json"))
        table = list(csv.DictReader(io.StringIO(archive.read(f"{section.name}.csv").decode())))
        assert len(table) == len(rows), section.name
        for row, line in zip(rows, table, strict=True):
            assert {key: csv_cell(value) for key, value in row.items()} == line, section.name


def test_another_persons_data_is_never_included():
    mine = person_with_history(email="mine@example.com")
    theirs = person_with_history(email="theirs@example.com", full_name="Zelda Someone-Else")

    _export, archive = _built(mine.user)

    everything = "".join(archive.read(name).decode() for name in archive.namelist())
    assert "theirs@example.com" not in everything and "Zelda" not in everything
    ids = {row["purchase_id"] for row in json.loads(archive.read("purchases.json"))}
    assert ids.isdisjoint(set(theirs.user.purchases.values_list("pk", flat=True)))


def test_starting_twice_returns_the_running_export_and_the_build_is_safe_to_run_twice():
    user = UserFactory()

    first, started = data_export.data_export_start(user=user)
    again, started_again = data_export.data_export_start(user=user)
    assert started and not started_again and again.pk == first.pk

    built = data_export.data_export_build(export_id=first.pk)
    name = built.file.name
    rebuilt = data_export.data_export_build(export_id=first.pk)

    assert rebuilt.status == DataExport.Status.READY and rebuilt.file.name == name
    assert DataExport.objects.filter(user=user).count() == 1
    _next, started_next = data_export.data_export_start(user=user)
    assert started_next  # once ready, a new copy can be asked for


def test_only_the_owner_may_download_and_only_until_it_expires():
    owner, stranger = UserFactory(), UserFactory()
    export, _ = data_export.data_export_start(user=owner)

    with pytest.raises(DataExportNotReadyError):
        data_export.data_export_for_download(user=owner, export_id=export.pk)
    data_export.data_export_build(export_id=export.pk)
    assert data_export.data_export_for_download(user=owner, export_id=export.pk).pk == export.pk
    with pytest.raises(DataExportNotFoundError):
        data_export.data_export_for_download(user=stranger, export_id=export.pk)

    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(DataExportExpiredError):
        data_export.data_export_for_download(user=owner, export_id=export.pk)


def test_the_sweep_deletes_expired_files_once():
    user = UserFactory()
    export, _ = data_export.data_export_start(user=user)
    export = data_export.data_export_build(export_id=export.pk)
    name = export.file.name
    assert default_storage.exists(name)

    assert data_exports_sweep.delay().get() == 0  # not expired yet
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert data_exports_sweep.delay().get() == 1
    assert data_exports_sweep.delay().get() == 0

    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED and not export.file
    assert not default_storage.exists(name)
    with pytest.raises(DataExportExpiredError):
        data_export.data_export_for_download(user=user, export_id=export.pk)


def test_a_failing_section_marks_the_export_failed_so_another_can_start():
    user = UserFactory()

    def broken(_user):
        raise RuntimeError("boom")

    privacy_registry.section_register(
        privacy_registry.ExportSection(name="zz_broken", title="Broken", description="", rows=broken)
    )
    try:
        export, _ = data_export.data_export_start(user=user)
        with pytest.raises(RuntimeError):
            data_export_build.apply(args=[export.pk], throw=True)
    finally:
        privacy_registry._sections.pop("zz_broken")
    export.refresh_from_db()
    assert export.status == DataExport.Status.FAILED
    assert data_export.data_export_start(user=user)[1]


def test_the_web_link_is_the_owners_and_an_expired_one_is_a_410_page(client):
    owner = UserFactory()
    export, _ = data_export.data_export_start(user=owner)
    data_export.data_export_build(export_id=export.pk)
    url = f"/accounts/privacy/export/{export.pk}/download/"

    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"

    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get(url)
    assert expired.status_code == 410
    assert "This link has expired" in expired.content.decode()
