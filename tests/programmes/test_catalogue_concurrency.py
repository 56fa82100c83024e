"""Members redeeming at the same moment, each thread on its own PostgreSQL connection: the stock is never
oversold, a confirmation sent twice is one redemption, and points are never spent twice."""

from collections import Counter

import pytest

from programmes import catalogue
from programmes.catalogue_models import Redemption, RewardItem, VoucherCode
from tests.concurrency import run_together
from tests.programmes.catalogue_factories import active_batch, item, member, shop
from wallet.invariants import ledger_violations
from wallet.points import points_balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _outcomes(results) -> Counter:
    return Counter(type(result).__name__ for result in results)


def test_eight_members_at_once_never_take_more_than_the_stock():
    world = shop()
    reward = item(world, price=100, stock=3, code_source="uploaded")
    active_batch(world, reward, [f"CODE-{n:04d}" for n in range(8)])
    people = [member(world, points=100) for _ in range(8)]

    results = run_together(
        lambda i: catalogue.catalogue_redeem(user=people[i], item=reward, request_key=f"k{i}"), threads=8
    )

    assert _outcomes(results) == {"Redemption": 3, "OutOfStockError": 5}
    assert RewardItem.objects.get(pk=reward.pk).stock == 0
    issued = VoucherCode.objects.filter(status=VoucherCode.Status.ISSUED)
    assert issued.count() == 3 and len(set(issued.values_list("holder", flat=True))) == 3
    assert sorted(points_balance(user=person) for person in people) == [0, 0, 0, 100, 100, 100, 100, 100]
    assert ledger_violations() == []


def test_one_confirmation_sent_eight_times_at_once_is_one_redemption():
    world = shop()
    reward = item(world, price=100, stock=5)
    person = member(world, points=1_000)

    results = run_together(
        lambda i: catalogue.catalogue_redeem(user=person, item=reward, request_key="same-form"), threads=8
    )

    assert _outcomes(results) == {"Redemption": 8}
    assert len({result.pk for result in results}) == 1
    assert Redemption.objects.count() == 1 and points_balance(user=person) == 900
    assert RewardItem.objects.get(pk=reward.pk).stock == 4


def test_points_for_two_are_spent_on_two_whatever_the_clicks():
    world = shop()
    reward = item(world, price=100, stock=50)
    person = member(world, points=250)

    results = run_together(
        lambda i: catalogue.catalogue_redeem(user=person, item=reward, request_key=f"form-{i}"), threads=8
    )

    assert _outcomes(results) == {"Redemption": 2, "InsufficientPointsError": 6}
    assert points_balance(user=person) == 50
    assert RewardItem.objects.get(pk=reward.pk).stock == 48
    assert ledger_violations() == []
