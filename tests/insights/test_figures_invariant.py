"""Incremental figures equal rebuilt ones, whatever the events, their order and their replays."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.models import Challenge
from insights.figures import figure_changes_fold, figures_rebuild
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event
from tests.insights.test_figures import snapshot
from tests.merchants.factories import LocationFactory

OSLO = ZoneInfo("Europe/Oslo")

step = st.fixed_dictionaries(
    {
        "purchase": st.integers(0, 2),  # consumer 0 makes purchases 0 and 2: which is first can change
        "kind": st.sampled_from(["auth", "clearing", "clearing", "clearing", "refund", "reversal", "replay"]),
        "amount": st.sampled_from([0, 4_000, 10_000, 25_000]),
        "day": st.integers(0, 2),
        "hour": st.sampled_from([0, 1, 12, 23]),  # around midnight in Oslo: the day is the local one
        "fold": st.booleans(),
    }
)


@pytest.mark.postgres
@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=12))
# A clearing dated a day before its (folded) authorisation moves the purchase to the earlier day.
@example(
    steps=[
        {"purchase": 1, "kind": "auth", "amount": 10_000, "day": 0, "hour": 1, "fold": True},
        {"purchase": 1, "kind": "clearing", "amount": 10_000, "day": 1, "hour": 23, "fold": False},
    ]
)
# A first purchase reversed after the consumer's next one was folded: the next one becomes new.
@example(
    steps=[
        {"purchase": 0, "kind": "clearing", "amount": 10_000, "day": 2, "hour": 12, "fold": False},
        {"purchase": 2, "kind": "clearing", "amount": 10_000, "day": 0, "hour": 12, "fold": True},
        {"purchase": 0, "kind": "reversal", "amount": 10_000, "day": 0, "hour": 23, "fold": False},
    ]
)
def test_incremental_figures_equal_a_rebuild(steps):
    """Given a live offer (with a 300 kr challenge, so bonuses come, go and move between purchases), two
    shops and three consumers, when random purchase events arrive — auths, clearings with other
    amounts, refunds, reversals (which reverse rewards), the same event twice, earlier events after
    later ones — and the changes are folded at random moments, then the figures equal a rebuild."""
    today = datetime.now(OSLO).date()
    offer = OfferFactory(
        starts_at=datetime.now(OSLO) - timedelta(days=30), ends_at=datetime.now(OSLO) + timedelta(days=30)
    )
    Challenge.objects.create(
        offer=offer, title="Spend 300 kr", target_type="revenue", target_value=30_000, bonus_minor=1_500
    )
    merchant = offer.merchant
    shops = [LocationFactory(merchant=merchant), LocationFactory(merchant=merchant), None]
    users = [UserFactory(), UserFactory(), UserFactory()]
    applied: list[dict] = []
    for n, s in enumerate(steps):
        if s["kind"] == "replay":
            if not applied:
                continue
            event(**applied[n % len(applied)])  # the same event id again: nothing changes
        else:
            p = s["purchase"]
            when = datetime(today.year, today.month, today.day, s["hour"], 30, tzinfo=OSLO) - timedelta(
                days=s["day"] + 1
            )
            args = {
                "user": users[p % 2],
                "merchant": merchant,
                "kind": s["kind"],
                "amount": s["amount"],
                "txn": f"p{p}" if s["kind"] in ("auth", "clearing") else f"p{p}-{s['kind']}-{n}",
                "original": f"p{p}" if s["kind"] in ("refund", "reversal") else "",
                "event_id": f"{merchant.pk}-e{n}",
                "at": when,
                "location": shops[p % 3],
            }
            event(**args)
            applied.append(args)
        if s["fold"]:
            figure_changes_fold()
    figure_changes_fold()
    incremental = snapshot(merchant.pk)
    figures_rebuild(merchant_id=merchant.pk)
    assert snapshot(merchant.pk) == incremental
