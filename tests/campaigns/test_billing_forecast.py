"""The business cashback forecast's arithmetic (campaigns.billing_forecast, issue 21): each payment
term, unpaid invoices, the trailing spend, the programme's caps; and its invariants (hypothesis)."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.billing_forecast import ForecastCustomer, customer_month, forecast, trailing_base
from campaigns.billing_periods import BilledPeriod

OSLO = ZoneInfo("Europe/Oslo")
MONTHS = (date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1))


def _at(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=OSLO)


def _period(net: int, start: datetime, end: datetime, rate: str = "0.01") -> BilledPeriod:
    return BilledPeriod(net_minor=net, rate=Decimal(rate), start=start, end=end)


def _customer(**changes) -> ForecastCustomer:
    values = {
        "programme_id": 1,
        "currency": "NOK",
        "rate": Decimal("0.01"),
        "monthly_cap": None,
        "paid": (),
        "unpaid": (),
        "subscribed": True,
        "trailing_base": 0,
        "months": frozenset(MONTHS),
    }
    values.update(changes)
    return ForecastCustomer(**values)


@pytest.mark.parametrize(
    ("case", "customer", "expected"),
    [
        # (paid, unpaid, projected) for December, January, February
        (
            "monthly payer: December's invoice is paid, the rest projected from the trailing spend",
            _customer(paid=(_period(100_000, _at(2026, 12), _at(2027, 1)),), trailing_base=90_000),
            [(1000, 0, 0), (0, 0, 900), (0, 0, 900)],
        ),
        (
            "yearly prepayment: earned month by month, nothing projected",
            _customer(paid=(_period(1_200_000, _at(2026, 3), _at(2027, 3)),), trailing_base=100_000),
            [(1019, 0, 0), (1019, 0, 0), (921, 0, 0)],
        ),
        (
            "quarterly: the quarter's months, then the trailing spend",
            _customer(paid=(_period(300_000, _at(2026, 11), _at(2027, 2)),), trailing_base=100_000),
            [(1011, 0, 0), (1011, 0, 0), (0, 0, 1000)],
        ),
        (
            "a finalized, unpaid invoice counts as unpaid",
            _customer(unpaid=(_period(100_000, _at(2027, 1), _at(2027, 2)),), trailing_base=50_000),
            [(0, 0, 500), (0, 1000, 0), (0, 0, 500)],
        ),
        (
            "opted out: only what is invoiced",
            _customer(paid=(_period(100_000, _at(2026, 12), _at(2027, 1)),), trailing_base=90_000, subscribed=False),
            [(1000, 0, 0), (0, 0, 0), (0, 0, 0)],
        ),
        (
            "the monthly cap comes off the projection first",
            _customer(
                paid=(_period(100_000, _at(2026, 12), _at(2027, 1)),),
                unpaid=(_period(100_000, _at(2026, 12), _at(2027, 1)),),
                trailing_base=200_000,
                monthly_cap=1500,
            ),
            [(1000, 500, 0), (0, 0, 1500), (0, 0, 1500)],
        ),
        (
            "the programme ends after January",
            _customer(trailing_base=100_000, months=frozenset(MONTHS[:2])),
            [(0, 0, 1000), (0, 0, 1000), (0, 0, 0)],
        ),
    ],
)
def test_each_payment_term_and_cap(case, customer, expected):
    assert [customer_month(customer, month, OSLO) for month in MONTHS] == expected, case


def test_the_trailing_base_averages_the_ended_months_billed_base():
    periods = [
        _period(90_000, _at(2026, 9), _at(2026, 10)),
        _period(120_000, _at(2026, 10), _at(2026, 11)),
        _period(1_200_000, _at(2026, 11), _at(2027, 11)),  # a yearly plan from November: its first month
    ]

    assert (
        trailing_base(periods, [date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1)], OSLO)
        == (90_000 + 120_000 + 98_630) // 3
    )
    assert trailing_base(periods, [], OSLO) == 0


def test_owed_at_each_month_end_adds_the_accrued_and_the_budget_stops_it():
    customers = [_customer(trailing_base=100_000), _customer(trailing_base=50_000)]

    [nok] = forecast(
        customers=customers,
        budgets={1: 2000},
        accrued_pending={"NOK": 300},
        accrued_available={"NOK": 200},
        months=MONTHS,
        zone=OSLO,
    )

    assert (nok.accrued, nok.customers) == (500, 2)
    assert [(row.projected, row.over_budget, row.earned, row.owed_at_end) for row in nok.months] == [
        (1500, 0, 1500, 2000),
        (1500, 1000, 500, 2500),
        (1500, 1500, 0, 2500),
    ]


def test_nothing_to_forecast_is_an_empty_list():
    assert forecast(customers=[], budgets={}, accrued_pending={}, accrued_available={}, months=MONTHS, zone=OSLO) == []


amounts = st.integers(min_value=0, max_value=5_000_000)
month_index = st.integers(min_value=0, max_value=14)


@st.composite
def customers(draw, programme_id: int):
    def period(start_index: int, length: int) -> BilledPeriod:
        start = _at(2026 + (8 + start_index) // 12, (8 + start_index) % 12 + 1)
        end_index = start_index + length
        end = _at(2026 + (8 + end_index) // 12, (8 + end_index) % 12 + 1)
        rate = draw(st.sampled_from(["0.005", "0.01", "0.02"]))
        return _period(draw(amounts), start, end, rate)

    def periods() -> tuple[BilledPeriod, ...]:
        return tuple(
            period(draw(month_index), draw(st.sampled_from([1, 3, 12])))
            for _ in range(draw(st.integers(min_value=0, max_value=3)))
        )

    return _customer(
        programme_id=programme_id,
        paid=periods(),
        unpaid=periods(),
        subscribed=draw(st.booleans()),
        trailing_base=draw(amounts),
        monthly_cap=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=30_000))),
    )


@settings(max_examples=60, deadline=None)
@given(
    members=st.lists(customers(1), min_size=0, max_size=5),
    budget=st.one_of(st.none(), st.integers(min_value=0, max_value=100_000)),
    accrued=amounts,
    reverse=st.booleans(),
)
def test_the_forecast_respects_the_caps_and_never_shrinks_and_ignores_the_order(members, budget, accrued, reverse):
    [result] = forecast(
        customers=members,
        budgets={1: budget},
        accrued_pending={"NOK": accrued},
        accrued_available={},
        months=MONTHS,
        zone=OSLO,
    )
    again = forecast(
        customers=list(reversed(members)) if reverse else members,
        budgets={1: budget},
        accrued_pending={"NOK": accrued},
        accrued_available={},
        months=MONTHS,
        zone=OSLO,
    )

    assert again == [result]
    owed = [row.owed_at_end for row in result.months]
    assert owed == sorted(owed) and owed[0] >= accrued
    for month, row in zip(MONTHS, result.months, strict=True):
        assert min(row.paid, row.unpaid, row.projected, row.earned) >= 0
        for member in members:
            if member.monthly_cap is not None:
                assert sum(customer_month(member, month, OSLO)) <= member.monthly_cap
    if budget is not None:
        assert sum(row.earned for row in result.months) <= budget
