"""An offer's terms in plain words: one case for every kind of term the rules engine has."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Challenge, LineItemRule, Offer, Tier
from campaigns.offer_terms import (
    challenge_in_words,
    days_in_words,
    hours_in_words,
    money_in_words,
    offer_terms_text,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)


def _offer(**values) -> Offer:
    """An unsaved offer: 10 % back and nothing else, unless a test says otherwise."""
    defaults = {
        "title": "Offer",
        "reward_type": "percent",
        "percent": Decimal("10"),
        "currency": "NOK",
        "starts_at": START,
        "ends_at": END,
        "return_period_days": 0,
    }
    return Offer(**{**defaults, **values})


def test_the_issue_example_reads_as_written():
    offer = _offer(
        max_reward_per_purchase_minor=10_000,
        days_of_week=[0, 1, 2, 3, 4],
        hour_from=7,
        hour_to=10,
        audience="new_customers",
    )

    assert (
        offer_terms_text(offer) == "10 % back, up to 100 kr per purchase, Mon\u2013Fri 07\u201310, new customers only"
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"percent": Decimal("12.50")}, "12.5 % back"),
        ({"reward_type": "fixed", "percent": Decimal(0), "fixed_amount_minor": 5_000}, "50 kr back"),
        (
            {"reward_type": "fixed", "percent": Decimal(0), "fixed_amount_minor": 1_050, "currency": "EUR"},
            "10.50 EUR back",
        ),
        ({"basis": "monthly_spend", "percent": Decimal("5")}, "5 % of your monthly spend back, paid after each month"),
        ({"reward_type": "charity", "percent": Decimal("3")}, "3 % goes to charity"),
        (
            {"reward_type": "charity", "percent": Decimal("4"), "fixed_amount_minor": 500},
            "4 % + 5 kr goes to charity",
        ),
    ],
    ids=["percent", "fixed", "fixed-eur", "monthly-spend", "charity", "charity-percent-and-fixed"],
)
def test_what_the_offer_gives(values, expected):
    assert offer_terms_text(_offer(**values)) == expected


def test_a_charity_offer_names_its_charity():
    offer = _offer(reward_type="charity", percent=Decimal("5"), charity_ref="7")

    assert offer_terms_text(offer, charity_name="Lesehesten") == "5 % goes to Lesehesten"


@pytest.mark.parametrize(
    ("values", "term"),
    [
        ({"min_spend_minor": 20_000}, "on purchases of 200 kr or more"),
        ({"max_reward_per_purchase_minor": 7_550}, "up to 75.50 kr per purchase"),
        ({"max_reward_per_purchase_minor": 0}, "up to 0 kr per purchase"),
        ({"days_of_week": [5, 6]}, "Sat, Sun"),
        ({"days_of_week": [0, 2, 4]}, "Mon, Wed, Fri"),
        ({"days_of_week": [0, 1, 2, 5]}, "Mon\u2013Wed, Sat"),
        ({"hour_from": 22, "hour_to": 2}, "daily 22\u201302"),
        ({"hour_from": 18}, "daily from 18"),
        ({"hour_to": 10}, "daily until 10"),
        ({"days_of_week": [4], "hour_from": 16, "hour_to": 18}, "Fri 16\u201318"),
        ({"audience": "new_customers"}, "new customers only"),
        ({"audience": "returning_customers"}, "returning customers only"),
        ({"audience": "segment", "segment": {"city": ["Oslo"]}}, "selected customers only"),
        ({"max_rewards_per_customer": 1}, "once per customer"),
        ({"max_rewards_per_customer": 3}, "3 times per customer"),
        ({"budget_total_minor": 1_000_000}, "while the budget lasts"),
        ({"stackable": True}, "on top of other offers"),
        ({"return_period_days": 14}, "cashback available after 14 days"),
    ],
)
def test_each_condition_of_the_rules_has_its_words(values, term):
    terms = offer_terms_text(_offer(**values)).split(", ")

    assert terms[0] == "10 % back"
    assert term in ", ".join(terms[1:])


def test_a_tier_offer_names_the_tier():
    offer = _offer(audience="tier", min_tier=Tier(name="Gold", rank=2, threshold_minor=0))

    assert offer_terms_text(offer) == "10 % back, Gold tier and above"


def test_location_limits_and_line_item_rules_come_from_the_caller():
    offer = _offer()
    rules = [
        LineItemRule(offer=offer, scope="category", key="pastries", kind="percent", percent=Decimal("20")),
        LineItemRule(offer=offer, scope="product", key="Beans 1 kg", kind="fixed", fixed_minor=1_500),
    ]

    text = offer_terms_text(offer, line_rules=rules, location_names=["Aker Brygge", "Grünerløkka"])

    assert text == (
        "10 % back, 20 % back on pastries, 15 kr back per \u201cBeans 1 kg\u201d, at Aker Brygge, Grünerløkka only"
    )


def test_terms_come_in_the_order_a_person_weighs_them():
    offer = _offer(
        min_spend_minor=10_000,
        max_reward_per_purchase_minor=5_000,
        days_of_week=[5],
        audience="new_customers",
        max_rewards_per_customer=1,
        budget_total_minor=100_000,
        stackable=True,
        return_period_days=30,
    )

    assert offer_terms_text(offer) == (
        "10 % back, on purchases of 100 kr or more, up to 50 kr per purchase, Sat, new customers only, "
        "once per customer, while the budget lasts, on top of other offers, cashback available after 30 days"
    )


@pytest.mark.parametrize(
    ("target_type", "target_value", "expected"),
    [
        ("purchase_count", 10, "Coffee club: make 10 purchases while the offer runs and get a 50 kr bonus"),
        ("purchase_count", 1, "Coffee club: make 1 purchase while the offer runs and get a 50 kr bonus"),
        ("revenue", 100_000, "Coffee club: spend 1000 kr while the offer runs and get a 50 kr bonus"),
    ],
)
def test_challenges_in_words(target_type, target_value, expected):
    challenge = Challenge(title="Coffee club", target_type=target_type, target_value=target_value, bonus_minor=5_000)

    assert challenge_in_words(challenge, "NOK") == expected


@given(st.sets(st.integers(min_value=0, max_value=6), min_size=1))
def test_every_chosen_day_is_named_once_and_in_order(days):
    """Expanding the ranges gives back exactly the chosen days (an invariant, whatever the set)."""
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    named: list[int] = []
    for part in days_in_words(days).split(", "):
        first, _, last = part.partition("\u2013")
        named.extend(range(names.index(first), names.index(last or first) + 1))

    assert named == sorted(days)


@given(st.integers(min_value=0, max_value=10**12))
def test_money_in_words_is_exact(amount_minor):
    text = money_in_words(amount_minor, "NOK")

    assert Decimal(text.removesuffix(" kr")) * 100 == amount_minor


def test_no_hours_means_all_day():
    assert hours_in_words(None, None) == ""
