"""What docs/architecture.md ("Data") promises about every model holds for every model."""

from pathlib import Path

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

ROOT = Path(__file__).resolve().parent.parent
# The project's own apps: those whose package sits in this repository.
OUR_APPS = {config.label for config in apps.get_app_configs() if Path(config.path).parent == ROOT}

# Rows that are written once and never changed (most are refused an UPDATE by a PostgreSQL trigger):
# an ``updated_at`` would always equal ``created_at``, so they carry only ``created_at``.
APPEND_ONLY = {
    "cashback.Fact",
    "wallet.JournalTransaction",
    "wallet.Entry",
    "wallet.PayoutStatusChange",
    "merchants.AuditEvent",
    "merchants.CommissionRate",
    "campaigns.OfferStatusChange",
    "campaigns.PurchaseEvent",
    "campaigns.MerchantDayChange",
    "accounts.AuditRecord",
    "accounts.StaffAuditEntry",
    "content.PageVersion",
    "content.FaqEntryVersion",
    "content.BannerVersion",
    "programmes.ContractEvent",
    "programmes.FieldRoleChange",
    "programmes.TierReward",
    "programmes.ActionReport",  # an action reported, written once
    "programmes.ActionOutcome",  # what a rule made of it, written once
}


def _our_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def _datetime_field(model: type[models.Model], name: str) -> models.DateTimeField | None:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.DateTimeField) else None


def test_every_model_records_when_it_was_created():
    # Set on insert: automatically, or by default to now (which lets a test or an import give the
    # time an event really happened).
    missing = [
        m._meta.label
        for m in _our_models()
        if not (f := _datetime_field(m, "created_at")) or not (f.auto_now_add or f.has_default())
    ]

    assert missing == []


def test_every_model_that_can_change_records_when_it_changed():
    missing = [
        m._meta.label
        for m in _our_models()
        if m._meta.label not in APPEND_ONLY and not ((f := _datetime_field(m, "updated_at")) and f.auto_now)
    ]

    assert missing == []


def test_the_append_only_list_names_only_models_without_updated_at():
    labels = {m._meta.label for m in _our_models()}

    assert labels >= APPEND_ONLY
    assert [label for label in APPEND_ONLY if _datetime_field(apps.get_model(label), "updated_at")] == []
