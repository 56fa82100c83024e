"""The daily figures through the public doors: purchase events in, folded figures out, exact."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from campaigns.models import MerchantDayChange
from insights.figures import figure_changes_fold
from insights.models import CustomerDay, DailyFigures
from insights.selectors import figures_by_offer, figures_by_shop, figures_series, figures_totals
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event
from tests.merchants.factories import LocationFactory

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=OSLO)


def buy(user, merchant, txn, amount, when, location=None):
    event(user=user, merchant=merchant, kind="auth", amount=amount, txn=txn, at=when, location=location)
    return event(user=user, merchant=merchant, kind="clearing", amount=amount, txn=txn, at=when, location=location)


def snapshot(merchant_id: int) -> tuple[list, list]:
    fields = [f.name for f in DailyFigures._meta.fields if f.name not in ("id", "created_at", "updated_at")]
    figures = sorted(
        tuple(str(v) for v in row) for row in DailyFigures.objects.filter(merchant_id=merchant_id).values_list(*fields)
    )
    cfields = [f.name for f in CustomerDay._meta.fields if f.name not in ("id", "created_at", "updated_at")]
    customers = sorted(
        tuple(str(v) for v in row) for row in CustomerDay.objects.filter(merchant_id=merchant_id).values_list(*cfields)
    )
    return figures, customers


@pytest.fixture
def shop_day():
    """A live 10 % offer (from 40 days ago), two shops, and two days a week apart, recent enough for it."""
    today = datetime.now(OSLO).date()
    offer = OfferFactory(starts_at=at(today - timedelta(days=40)), ends_at=at(today + timedelta(days=30)))
    merchant = offer.merchant
    return offer, merchant, LocationFactory(merchant=merchant), LocationFactory(merchant=merchant), today


def test_a_hand_built_month_is_exact(shop_day):
    """Given three consumers' purchases over two days (one refunded in part, one reversed, one only
    authorised), when the changes are folded, the totals, series and rankings are exactly these."""
    offer, merchant, north, south, today = shop_day
    day1, day2 = today - timedelta(days=9), today - timedelta(days=2)
    anna, bo, cy = UserFactory(), UserFactory(), UserFactory()
    buy(anna, merchant, "a1", 10_000, at(day1), north)  # new; 1 000 back
    buy(bo, merchant, "b1", 20_000, at(day1, 13), south)  # new; refunded 5 000 below
    event(user=bo, merchant=merchant, kind="refund", amount=5_000, txn="b1-r", original="b1", at=at(day2))
    buy(anna, merchant, "a2", 30_000, at(day2), north)  # returning
    buy(cy, merchant, "c1", 40_000, at(day2, 14), north)  # reversed: counts nothing
    event(user=cy, merchant=merchant, kind="reversal", amount=40_000, txn="c1-x", original="c1", at=at(day2, 15))
    # Only authorised: no revenue, but its pending reward is already a cost.
    event(user=cy, merchant=merchant, kind="auth", amount=7_000, txn="c2", at=at(day2, 16), location=north)

    assert MerchantDayChange.objects.filter(merchant=merchant).exists()
    figure_changes_fold()
    assert not MerchantDayChange.objects.exists()

    totals = figures_totals(merchant_id=merchant.pk, currency="NOK", start=day1, end=day2)
    assert totals.revenue_minor == 10_000 + 15_000 + 30_000
    assert totals.purchases == 3
    assert (totals.customers, totals.new_customers, totals.returning_customers) == (2, 2, 0)
    # 10 % of 10 000 + 10 % of what is left of 20 000 + of 30 000; the authorised 7 000 earned 700 too.
    assert totals.cost_minor == 1_000 + 1_500 + 3_000 + 700
    assert totals.commission == Decimal("6200") * Decimal("0.15")
    assert totals.return_on_cashback == Decimal("8.87")
    assert totals.cost_per_new_customer_minor == 3_100

    second = figures_totals(merchant_id=merchant.pk, currency="NOK", start=day2, end=day2)
    assert (second.customers, second.new_customers, second.returning_customers) == (1, 0, 1)
    assert second.revenue_minor == 30_000  # the refund (made on day 2) counts on its purchase's day, day 1

    series = figures_series(merchant_id=merchant.pk, currency="NOK", start=day1, end=day2, bucket="day")
    assert len(series) == 8
    assert [p.purchases for p in series] == [2, 0, 0, 0, 0, 0, 0, 1]
    assert series[0].revenue_minor == 25_000 and series[-1].revenue_minor == 30_000

    shops = figures_by_shop(merchant_id=merchant.pk, currency="NOK", start=day1, end=day2)
    assert [(s.id, s.revenue_minor) for s in shops] == [(north.pk, 40_000), (south.pk, 15_000)]
    offers = figures_by_offer(merchant_id=merchant.pk, currency="NOK", start=day1, end=day2)
    assert [(o.id, o.revenue_minor, o.cost_minor) for o in offers] == [(offer.pk, 55_000, 6_200)]


def test_purchases_without_an_offer_count_under_no_offer(shop_day):
    _, merchant, north, _, today = shop_day
    day = today - timedelta(days=60)  # before the offer started: earns nothing
    buy(UserFactory(), merchant, "old", 12_300, at(day), north)
    figure_changes_fold()
    (row,) = figures_by_offer(merchant_id=merchant.pk, currency="NOK", start=day, end=day)
    assert (row.id, row.name, row.revenue_minor, row.cost_minor) == (None, "No offer", 12_300, 0)


def test_reversing_a_first_purchase_makes_the_next_one_new(shop_day):
    """Given a consumer's first purchase on day 1 and another on day 5, when the first is reversed
    (and folded), day 5's purchase is the new one: incremental figures equal a rebuild."""
    _, merchant, north, _, today = shop_day
    anna = UserFactory()
    day1, day5 = today - timedelta(days=10), today - timedelta(days=6)
    buy(anna, merchant, "a1", 10_000, at(day1), north)
    buy(anna, merchant, "a2", 10_000, at(day5), north)
    figure_changes_fold()
    assert figures_totals(merchant_id=merchant.pk, currency="NOK", start=day5, end=day5).new_customers == 0
    event(user=anna, merchant=merchant, kind="reversal", amount=10_000, txn="a1-x", original="a1", at=at(day5, 18))
    figure_changes_fold()
    assert figures_totals(merchant_id=merchant.pk, currency="NOK", start=day5, end=day5).new_customers == 1
    incremental = snapshot(merchant.pk)
    call_command("insights_rebuild", "--merchant", str(merchant.pk), verbosity=0)
    assert snapshot(merchant.pk) == incremental


def test_rebuild_command_takes_a_range_and_refuses_a_bad_one(shop_day):
    from django.core.management.base import CommandError

    _, merchant, north, _, today = shop_day
    buy(UserFactory(), merchant, "x", 5_000, at(today - timedelta(days=3)), north)
    call_command("insights_rebuild", "--from", str(today - timedelta(days=5)), "--to", str(today), verbosity=0)
    assert DailyFigures.objects.filter(merchant=merchant).count() == 1
    with pytest.raises(CommandError):
        call_command("insights_rebuild", "--from", "2026-02-30")
    with pytest.raises(CommandError):
        call_command("insights_rebuild", "--from", "2026-02-10", "--to", "2026-02-01")
