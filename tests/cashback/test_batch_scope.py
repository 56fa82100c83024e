"""Follow-up tasks of a batch of inbox events are published once per batch (cashback/batch_scope.py)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns.models import CustomerTier
from campaigns.services import tier_recompute, tier_recompute_many
from cashback.batch_scope import batch_scope, defer_after_commit
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_inside_a_scope_items_are_published_once_at_its_end(django_capture_on_commit_callbacks):
    published = []
    with batch_scope():
        for item in (3, 1, 3, 2):
            with django_capture_on_commit_callbacks(execute=True):
                defer_after_commit(name="things", item=item, publish=published.append)
        assert published == []  # nothing before the batch ends
    assert published == [[1, 2, 3]]


def test_outside_a_scope_each_item_is_published_after_its_commit(django_capture_on_commit_callbacks):
    published = []
    with django_capture_on_commit_callbacks(execute=True):
        defer_after_commit(name="things", item=7, publish=published.append)
        assert published == []  # not before the commit
    assert published == [[7]]


def test_work_rolled_back_publishes_nothing(django_capture_on_commit_callbacks):
    published = []
    with batch_scope(), django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                defer_after_commit(name="things", item=1, publish=published.append)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert published == []


def test_a_consumer_recomputed_since_the_request_is_skipped():
    fresh, stale = UserFactory(), UserFactory()
    requested_at = timezone.now() - timedelta(seconds=5)
    tier_recompute(user=fresh)  # computed after the request: it saw the purchases already

    assert tier_recompute_many(user_ids=[fresh.pk, stale.pk], requested_at=requested_at) == 1
    assert CustomerTier.objects.filter(user=stale).exists()
