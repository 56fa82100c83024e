"""Money, numbers and dates in the active language and time zone (cashback/formatting.py).

Built into every template (``TEMPLATES[...]["OPTIONS"]["builtins"]``), so no page needs a ``{% load %}``:
``{{ balance.available|money:balance.currency }}``, ``{{ payout.created_at|local_datetime }}``,
``{{ statement.month|local_date:"month" }}``. Empty values render as nothing, never as an error.
"""

import datetime
from decimal import Decimal

from django import template

from cashback import formatting

register = template.Library()


@register.filter
def money(amount_minor: int | str | None, currency: str) -> str:
    """``{{ 124550|money:"NOK" }}`` → ``1 245,50 kr`` (nb) / ``NOK 1,245.50`` (en)."""
    if amount_minor is None or amount_minor == "":
        return ""
    return formatting.format_money(int(amount_minor), currency)


@register.filter
def number(value: int | Decimal | None) -> str:
    """``{{ 12345|number }}`` → ``12 345`` (nb) / ``12,345`` (en)."""
    if value is None or value == "":
        return ""
    return formatting.format_number(value)


@register.filter
def percent(value: int | Decimal | None) -> str:
    """``{{ 12.5|percent }}`` (a number of per cent) → ``12,5 %`` (nb) / ``12.5%`` (en)."""
    if value is None or value == "":
        return ""
    return formatting.format_percent(value)


@register.filter
def local_date(value: datetime.date | None, style: str = "medium") -> str:
    """``medium`` (5 Dec 2026), ``long`` (5 December 2026), ``month`` (December 2026), ``day_month`` (5 Dec)."""
    if not value:
        return ""
    return formatting.format_date(value, style)


@register.filter
def local_datetime(value: datetime.datetime | None, arg: str = "") -> str:
    """``5 Dec 2026, 21:05`` in the current time zone; ``local_datetime:"seconds"`` adds the seconds."""
    if not value:
        return ""
    if arg == "long":
        return formatting.format_datetime(value, "long")
    return formatting.format_datetime(value, seconds=arg == "seconds")


@register.filter
def local_time(value: datetime.datetime | None) -> str:
    """``21:05`` in the current time zone."""
    if not value:
        return ""
    return formatting.format_time(value)
