"""Money to set aside for business cashback (/staff/cashback-forecast/, issue 21): per currency, what
the platform will owe at each of the next month ends, with its method, a chart, a CSV export and the
automatic payouts that were skipped. The figures come from ``campaigns.forecast_selectors``."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.decorators import staff_required
from campaigns.billing_forecast import FORECAST_METHOD, CurrencyForecast
from campaigns.billing_periods import next_month
from campaigns.forecast_selectors import auto_payout_runs_skipped, business_cashback_forecast
from wallet.money import currency_exponent, minor_to_decimal_string

CSV_COLUMNS = (
    "currency",
    "month",
    "last_day",
    "paid_invoices",
    "unpaid_invoices",
    "projected",
    "over_budget",
    "earned_in_month",
    "owed_now",
    "owed_at_period_end",
)


def _chart_data(forecasts: list[CurrencyForecast]) -> dict[str, object]:
    return {
        forecast.currency: {
            "labels": [f"{row.month:%b %Y}" for row in forecast.months],
            "exponent": currency_exponent(forecast.currency),
            "paid": [row.paid for row in forecast.months],
            "unpaid": [row.unpaid for row in forecast.months],
            "projected": [row.projected - row.over_budget for row in forecast.months],
            "owed": [row.owed_at_end for row in forecast.months],
        }
        for forecast in forecasts
    }


def _csv(forecasts: list[CurrencyForecast]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for forecast in forecasts:
        money = forecast.currency
        for row in forecast.months:
            last_day = next_month(row.month) - timedelta(days=1)
            writer.writerow(
                [
                    forecast.currency,
                    f"{row.month:%Y-%m}",
                    last_day.isoformat(),
                    *(
                        minor_to_decimal_string(value, money)
                        for value in (
                            row.paid,
                            row.unpaid,
                            row.projected,
                            row.over_budget,
                            row.earned,
                            forecast.accrued,
                            row.owed_at_end,
                        )
                    ),
                ]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cashback-forecast-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


@staff_required("campaigns.view_cashback_forecast")
def cashback_forecast(request: HttpRequest) -> HttpResponse:
    forecasts = business_cashback_forecast()
    context = {
        "section": "cashback_forecast",
        "forecasts": forecasts,
        "chart_data": _chart_data(forecasts),
        "method": FORECAST_METHOD,
        "skipped": auto_payout_runs_skipped(),
    }
    return render(request, "adminpanel/cashback_forecast.html", context)


@staff_required("campaigns.view_cashback_forecast")
def cashback_forecast_export(request: HttpRequest) -> HttpResponse:
    return _csv(business_cashback_forecast())
