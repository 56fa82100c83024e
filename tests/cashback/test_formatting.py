"""Money, numbers and dates are written one way per language (cashback/formatting.py, the template filters)."""

import datetime
import zoneinfo
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from cashback import formatting

NBSP = "\u00a0"


def _plain(text: str) -> str:
    return text.replace(NBSP, " ").replace("\u202f", " ").replace("\u2212", "-")


@pytest.mark.parametrize(
    ("language", "minor", "currency", "expected"),
    [
        ("nb", 124550, "NOK", "1 245,50 kr"),
        ("en", 124550, "NOK", "NOK 1,245.50"),
        ("nb", -5, "NOK", "-0,05 kr"),
        ("en", 0, "EUR", "€ 0.00"),
        ("nb", 100, "EUR", "1,00 €"),
        ("sv", 99900, "SEK", "999,00 kr"),
        ("da", 123456789, "DKK", "1.234.567,89 kr."),
    ],
)
def test_money_is_written_in_the_language_of_the_reader(language, minor, currency, expected):
    assert _plain(formatting.format_money(minor, currency, language=language)) == expected


def test_the_amount_and_its_currency_never_break_apart():
    assert formatting.format_money(124550, "NOK", language="en") == f"NOK{NBSP}1,245.50"
    assert formatting.format_money(124550, "NOK", language="nb") == f"1{NBSP}245,50{NBSP}kr"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_is_exact_for_any_amount(minor):
    """The digits shown are the minor units, never rounded through a float."""
    written = formatting.format_money(minor, "NOK", language="en")
    digits = "".join(ch for ch in written if ch.isdigit())
    assert int(digits) == abs(minor)
    assert written.startswith("-") == (minor < 0)


def test_the_active_language_is_used_when_none_is_given():
    with translation.override("nb"):
        assert _plain(formatting.format_money(5000, "NOK")) == "50,00 kr"
    with translation.override("en"):
        assert _plain(formatting.format_money(5000, "NOK")) == "NOK 50.00"


def test_numbers_and_percentages():
    assert _plain(formatting.format_number(Decimal("12345.5"), language="nb")) == "12 345,5"
    assert formatting.format_number(12345, language="en") == "12,345"
    assert _plain(formatting.format_percent(Decimal("12.5"), language="nb")) == "12,5 %"
    assert formatting.format_percent(10, language="en") == "10%"


def test_dates_and_times_in_the_current_time_zone():
    moment = datetime.datetime(2026, 12, 5, 21, 5, tzinfo=datetime.UTC)  # 22:05 in Oslo
    with timezone.override(zoneinfo.ZoneInfo("Europe/Oslo")):
        assert formatting.format_datetime(moment, language="en") == "5 Dec 2026, 22:05"
        assert formatting.format_datetime(moment, language="nb") == "5. des. 2026, 22:05"
        assert formatting.format_date(moment, "long", language="nb") == "5. desember 2026"
        assert formatting.format_date(moment, "month", language="en") == "December 2026"
        assert formatting.format_time(moment, language="nb") == "22:05"
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert formatting.format_datetime(moment, language="en") == "5 Dec 2026, 16:05"
    late = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC)  # already 2027 in Oslo
    with timezone.override(zoneinfo.ZoneInfo("Europe/Oslo")):
        assert formatting.format_date(late, language="en") == "1 Jan 2027"


def test_the_template_filters_need_no_load_and_follow_the_language():
    template = Template(
        '{{ amount|money:"NOK" }}|{{ moment|local_datetime }}|{{ day|local_date:"long" }}|{{ none|money:"NOK" }}'
    )
    context = {
        "amount": 124550,
        "moment": datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 6, 1),
        "none": None,
    }
    with translation.override("nb"), timezone.override(zoneinfo.ZoneInfo("Europe/Oslo")):
        assert _plain(template.render(Context(context))) == "1 245,50 kr|1. juni 2026, 12:00|1. juni 2026|"
    with translation.override("en"), timezone.override(zoneinfo.ZoneInfo("Europe/Oslo")):
        assert _plain(template.render(Context(context))) == "NOK 1,245.50|1 Jun 2026, 12:00|1 June 2026|"


def test_writing_to_a_person_uses_their_language_and_time_zone(settings):
    person = SimpleNamespace(language="nb", time_zone="America/New_York")
    moment = datetime.datetime(2026, 12, 5, 21, 5, tzinfo=datetime.UTC)
    with formatting.person_locale(person):
        assert translation.get_language() == "nb"
        assert formatting.format_time(moment) == "16:05"
    nobody = SimpleNamespace(language="", time_zone="Not/AZone")
    with formatting.person_locale(nobody):
        assert translation.get_language() == settings.LANGUAGE_CODE
        assert timezone.get_current_timezone_name() == settings.TIME_ZONE
