"""Platform analytics for finance (/staff/analytics/, F-X6): KPIs over a chosen period with charts,
the cashback liability now from the ledger, and what to set aside for the next 30, 60 and 90 days.

The figures come from selectors in the apps that own the data (accounts, campaigns, wallet), each one
query; this module only lays them out by day. The forecast's method is ``FORECAST_METHOD``, shown on
the page and in docs/staff-money.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext

from accounts import analytics_selectors as people
from accounts.decorators import staff_required
from campaigns import analytics_selectors as purchases
from cashback.forms import GuardedForm
from wallet import analytics_selectors as ledger
from wallet.models import Currency
from wallet.money import currency_exponent
from wallet.staff_filters import start_of_day

DEFAULT_DAYS = 30
MAX_DAYS = 366
HORIZONS = (30, 60, 90)
TRAILING_DAYS = 90
FORECAST_METHOD = (
    "For each horizon N (30, 60, 90 days) and currency: the pending cashback of rewards that mature "
    "within N days (reward by reward, from their maturity date; rewards already due count too), plus "
    f"the cashback expected to be issued in the next N days at the trailing rate — cashback issued in "
    f"the last {TRAILING_DAYS} days divided by {TRAILING_DAYS}, times N. Reversals are not deducted, "
    "so the figure errs on the side of holding too much. What consumers and charities are owed now "
    "(the liability above) is owed already and comes on top."
)

COUNT_METRICS = [
    ("signups", "Sign-ups"),
    ("cards_linked", "Cards linked"),
    ("purchases", "Purchases"),
]
MONEY_METRICS = [
    ("volume", "Purchase volume"),
    ("issued", "Cashback issued"),
    ("matured", "Cashback matured"),
    ("paid_out", "Paid out"),
    ("donated", "Donated"),
    ("expired", "Expired (breakage)"),
    ("referral_bonuses", "Referral bonuses"),
    ("commission", "Commission"),
]


class AnalyticsPeriodForm(GuardedForm):
    """From and to are inclusive days; both optional (the last ``DEFAULT_DAYS`` days to today)."""

    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    currency = forms.ChoiceField(label="Currency of the money charts", required=False, choices=Currency.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        end = data.get("date_to") or today
        start = data.get("date_from") or end - timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            self.add_error("date_to", gettext("The last day is before the first day."))
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("date_to", gettext("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        data["date_from"], data["date_to"] = start, end
        data["currency"] = data.get("currency") or settings.DEFAULT_CURRENCY
        return data


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    total: int
    money: bool


@dataclass(frozen=True)
class Forecast:
    currency: str
    rate_per_day: int
    rows: list[tuple[int, int, int, int]]  # (days, maturing pending, expected new, total)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def _series(start: date, end: date, currency: str) -> dict[str, list[int]]:
    since, until = start_of_day(start), start_of_day(end + timedelta(days=1))
    signups = people.signups_by_day(start=since, end=until)
    cards = people.cards_linked_by_day(start=since, end=until)
    bought = purchases.purchases_by_day(start=since, end=until)
    flows = ledger.ledger_flows_by_day(start=since, end=until)
    days = _days(start, end)
    series: dict[str, list[int]] = {
        "signups": [signups.get(day, 0) for day in days],
        "cards_linked": [cards.get(day, 0) for day in days],
        "purchases": [bought.get((day, currency), (0, 0))[0] for day in days],
        "volume": [bought.get((day, currency), (0, 0))[1] for day in days],
    }
    for key, _ in MONEY_METRICS[1:]:
        series[key] = [flows.get((day, currency, key), 0) for day in days]
    return series


def _forecasts(now: datetime) -> list[Forecast]:
    maturing = purchases.pending_rewards_maturing(now=now, horizons=HORIZONS)
    issued = ledger.cashback_issued_per_currency(start=now - timedelta(days=TRAILING_DAYS), end=now)
    forecasts = []
    for currency in sorted(set(maturing) | set(issued)):
        # Integer minor units: the expected amount is rounded up, never a float.
        total_issued = issued.get(currency, 0)
        rows = []
        for days in HORIZONS:
            expected = -(-total_issued * days // TRAILING_DAYS)
            pending = maturing.get(currency, {}).get(days, 0)
            rows.append((days, pending, expected, pending + expected))
        forecasts.append(Forecast(currency=currency, rate_per_day=-(-total_issued // TRAILING_DAYS), rows=rows))
    return forecasts


@staff_required("wallet.view_platform_analytics")
def analytics(request: HttpRequest) -> HttpResponse:
    form = AnalyticsPeriodForm(request.GET or {})
    form.is_valid()
    if form.errors:
        status, start = 400, timezone.localdate() - timedelta(days=DEFAULT_DAYS - 1)
        end, currency = timezone.localdate(), settings.DEFAULT_CURRENCY
    else:
        status, start, end = 200, form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        currency = form.cleaned_data["currency"]
        # Shown again with the days it chose, defaults included.
        form = AnalyticsPeriodForm(initial={"date_from": start, "date_to": end, "currency": currency})
    series = _series(start, end, currency)
    now = timezone.now()
    kpis = [Kpi(key, label, sum(series[key]), False) for key, label in COUNT_METRICS] + [
        Kpi(key, label, sum(series[key]), True) for key, label in MONEY_METRICS
    ]
    chart_data = {
        "labels": [day.isoformat() for day in _days(start, end)],
        "currency": currency,
        "exponent": currency_exponent(currency),
        "series": series,
        "titles": dict(COUNT_METRICS + MONEY_METRICS),
        "money": [key for key, _ in MONEY_METRICS],
    }
    context = {
        "section": "analytics",
        "form": form,
        "start": start,
        "end": end,
        "currency": currency,
        "kpis": kpis,
        "active_cards": people.active_cards_at(at=min(now, start_of_day(end + timedelta(days=1)))),
        "charts": COUNT_METRICS + MONEY_METRICS,
        "chart_data": chart_data,
        "liabilities": ledger.cashback_liability(),
        "forecasts": _forecasts(now),
        "horizons": HORIZONS,
        "forecast_method": FORECAST_METHOD,
    }
    return render(request, "adminpanel/analytics.html", context, status=status)
