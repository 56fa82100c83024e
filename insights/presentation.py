"""What the insights pages show, built from the selectors: KPI widgets, chart data and their tables.

Money is formatted with the project's helper (``wallet.money.minor_to_decimal_string``, the
``money`` template filter's); the charts get minor units and the currency's exponent in a
``json_script`` data island, and ``static/js/insights-charts.js`` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cashback.formatting import format_money, format_number
from insights.forms import Period
from insights.selectors import (
    Comparison,
    Ranked,
    SeriesPoint,
    figures_by_offer,
    figures_by_shop,
    figures_comparison,
    figures_series,
)
from wallet.money import currency_exponent, minor_to_decimal_string

if TYPE_CHECKING:
    from merchants.models import Merchant

CHARTS = [
    {"key": "revenue", "title": "Revenue"},
    {"key": "purchases", "title": "Purchases"},
    {"key": "customers", "title": "Customers, new and returning"},
    {"key": "cost", "title": "Cashback cost"},
]
DASH = "—"  # shown where a figure has no meaning (a divisor of zero)


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    currency: str
    change: str  # "+12.5 %", "-3.0 %" or "—"
    trend: str  # "up", "down", "flat" or "" (no previous figure)
    note: str
    key: str = ""  # the figure's name, the same in every language


def _change(comparison: Comparison, name: str) -> tuple[str, str]:
    change = comparison.change(name)
    if change is None:
        return DASH, ""
    if change > 0:
        return f"+{change} %", "up"
    if change < 0:
        return f"\u2212{-change} %", "down"
    return "0.0 %", "flat"


def kpis(comparison: Comparison) -> list[Kpi]:
    now, currency = comparison.current, comparison.current.currency

    def money(minor: int | None) -> str:  # with its currency, in the reader's language
        return DASH if minor is None else format_money(minor, currency)

    def kpi(label: str, name: str, value: str, unit: str = "", note: str = "") -> Kpi:
        change, trend = _change(comparison, name)
        return Kpi(label=label, value=value, currency=unit, change=change, trend=trend, note=note, key=name)

    roc = now.return_on_cashback
    return [
        kpi(_("Revenue"), "revenue_minor", money(now.revenue_minor), note=_("cleared purchases less refunds")),
        kpi(_("Purchases"), "purchases", format_number(now.purchases)),
        kpi(_("Customers"), "customers", format_number(now.customers), note=_("different people who bought")),
        kpi(_("New customers"), "new_customers", format_number(now.new_customers), note=_("first purchase with you")),
        kpi(
            _("Returning customers"),
            "returning_customers",
            format_number(now.returning_customers),
            note=_("bought before"),
        ),
        kpi(_("Cashback cost"), "cost_minor", money(now.cost_minor), note=_("rewards net of reversals")),
        kpi(
            _("Return on cashback"),
            "return_on_cashback",
            DASH if roc is None else format_number(roc),
            "" if roc is None else currency,
            _("revenue per 1 %(currency)s of cashback") % {"currency": currency},
        ),
        kpi(
            _("Cost per new customer"),
            "cost_per_new_customer_minor",
            money(now.cost_per_new_customer_minor),
            note=_("cashback cost / new customers"),
        ),
    ]


def _label(start: date, bucket: str) -> str:
    if bucket == "month":
        return start.strftime("%b %Y")
    if bucket == "week":
        return f"Week of {start.day} {start.strftime('%b')}"
    return f"{start.day} {start.strftime('%b')}"


def chart_data(points: list[SeriesPoint], *, currency: str, bucket: str) -> dict[str, Any]:
    """The data island of the charts: labels, minor units and counts (no floats, no formatting)."""
    return {
        "currency": currency,
        "exponent": currency_exponent(currency),
        "bucket": bucket,
        "labels": [_label(p.start, bucket) for p in points],
        "revenue": [p.revenue_minor for p in points],
        "purchases": [p.purchases for p in points],
        "new_customers": [p.new_customers for p in points],
        "returning_customers": [p.returning_customers for p in points],
        "cost": [p.cost_minor for p in points],
        "charity": [p.charity_minor for p in points],
    }


def chart_tables(points: list[SeriesPoint], *, currency: str, bucket: str) -> list[dict[str, Any]]:
    """The same figures as rows for the tables under the charts (screen readers, people who prefer numbers)."""
    return [
        {
            "label": _label(p.start, bucket),
            "revenue": minor_to_decimal_string(p.revenue_minor, currency),
            "purchases": p.purchases,
            "customers": p.customers,
            "new_customers": p.new_customers,
            "returning_customers": p.returning_customers,
            "cost": minor_to_decimal_string(p.cost_minor, currency),
            "charity": minor_to_decimal_string(p.charity_minor, currency),
        }
        for p in points
    ]


def _commission(exact: Decimal, currency: str) -> str:
    """The exact commission shown to the minor unit, half up (as the invoice rounds a month's sum)."""
    return minor_to_decimal_string(int(exact.quantize(Decimal(1), ROUND_HALF_UP)), currency)


def ranked_rows(rows: list[Ranked], *, currency: str, limit: int | None = None) -> list[dict[str, Any]]:
    shown = rows if limit is None else rows[:limit]
    return [
        {
            "id": row.id,
            "name": row.name,
            "revenue": minor_to_decimal_string(row.revenue_minor, currency),
            "purchases": row.purchases,
            "cost": minor_to_decimal_string(row.cost_minor, currency),
            "charity": minor_to_decimal_string(row.charity_minor, currency),
            "commission": _commission(row.commission, currency),
            "return_on_cashback": (
                str((Decimal(row.revenue_minor) / row.cost_minor).quantize(Decimal("0.01"))) if row.cost_minor else DASH
            ),
        }
        for row in shown
    ]


def insights_context(*, merchant_id: int, currency: str, period: Period, offer_id: int | None = None) -> dict[str, Any]:
    """Everything the dashboard (or an offer's results page, with ``offer_id``) shows for the period."""
    comparison = figures_comparison(
        merchant_id=merchant_id, currency=currency, start=period.start, end=period.end, offer_id=offer_id
    )
    points = figures_series(
        merchant_id=merchant_id,
        currency=currency,
        start=period.start,
        end=period.end,
        bucket=period.bucket,
        offer_id=offer_id,
    )
    shops = figures_by_shop(
        merchant_id=merchant_id, currency=currency, start=period.start, end=period.end, offer_id=offer_id
    )
    context: dict[str, Any] = {
        "period": period,
        "currency": currency,
        "comparison": comparison,
        "kpis": kpis(comparison),
        "chart_data": chart_data(points, currency=currency, bucket=period.bucket),
        "charts": CHARTS,
        "chart_rows": chart_tables(points, currency=currency, bucket=period.bucket),
        "top_shops": ranked_rows(shops, currency=currency, limit=5),
        "totals": comparison.current,
        "totals_display": {
            "cost": minor_to_decimal_string(comparison.current.cost_minor, currency),
            "charity": minor_to_decimal_string(comparison.current.charity_minor, currency),
            "commission": _commission(comparison.current.commission, currency),
        },
    }
    if offer_id is None:
        offers = figures_by_offer(merchant_id=merchant_id, currency=currency, start=period.start, end=period.end)
        context["top_offers"] = ranked_rows([o for o in offers if o.id is not None], currency=currency, limit=5)
        context["offer_costs"] = ranked_rows(
            sorted((o for o in offers if o.id is not None), key=lambda o: (-o.cost_minor, o.name)), currency=currency
        )
    return context


def overview_panel(merchant: Merchant) -> dict[str, Any]:
    """The portal's first page: the last 30 days' headline figures beside the 30 before (4 queries)."""
    today = timezone.localdate()
    comparison = figures_comparison(
        merchant_id=merchant.pk, currency=merchant.currency, start=today - timedelta(days=29), end=today
    )
    shown = {"revenue_minor", "purchases", "customers", "cost_minor", "return_on_cashback"}
    return {"merchant_id": merchant.pk, "kpis": [kpi for kpi in kpis(comparison) if kpi.key in shown]}
