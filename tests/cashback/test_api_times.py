"""Every time in the API one way: ISO 8601 with the offset of the platform's zone (TIME_ZONE),
whether a serializer field renders it or a body built by hand carries a datetime (docs/api.md)."""

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event

pytestmark = pytest.mark.django_db

OFFSET = re.compile(r"[+-]\d\d:\d\d$")


def _local_offset(text: str) -> str:
    moment = datetime.fromisoformat(text)
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat()


def test_a_purchase_time_reads_the_same_in_the_purchases_and_the_entries_api():
    offer = OfferFactory(percent=Decimal("10"))
    user = UserFactory()
    event(user=user, merchant=offer.merchant, kind="clearing", amount=20_000, txn="txn_times")
    client = APIClient()
    client.force_authenticate(user)

    purchase = client.get("/api/v1/purchases/").json()["results"][0]
    entry = next(e for e in client.get("/api/v1/wallet/entries/").json()["results"] if e["purchase"])

    assert entry["purchase"]["occurred_at"] == purchase["occurred_at"]
    for text in (purchase["occurred_at"], entry["purchase"]["occurred_at"], entry["created_at"]):
        assert OFFSET.search(text), text
        assert text == _local_offset(text), text  # in the platform's zone, not UTC
