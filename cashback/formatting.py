"""Money, numbers and dates as a person reads them, in the active language and time zone.

The one place that writes an amount or a date for people: templates (the ``money``, ``number``,
``local_date``, ``local_datetime`` and ``local_time`` filters, built into every template through
``cashback.templatetags.formatting``), e-mails, SMS texts and PDFs all call these functions. Babel
holds the Unicode CLDR conventions of every locale, so Norwegian reads "1 245,50 kr" and
English "NOK 1,245.50" without a table of our own. Machine-readable output (the API's decimal
strings, CSV files, ``datetime`` attributes) stays plain and does not come here.

The language is Django's active one (``LocaleMiddleware``, then the person's profile in
``accounts.middleware.PersonalLocaleMiddleware``); the time zone is Django's current one
(``Europe/Oslo`` unless the profile says otherwise). Tasks that write to a person wrap the work in
``translation.override(...)`` and ``timezone.override(...)`` for that person (``person_locale``).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Literal

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from django.conf import settings
from django.utils import timezone, translation

from cashback.amounts import CURRENCY_EXPONENTS

# Django's language code → the CLDR locale whose conventions we write in. English is British
# English: day before month and a 24-hour clock, as Nordic readers of English expect.
_BABEL_LOCALES = {
    "en": "en_GB",
    "nb": "nb_NO",
    "no": "nb_NO",
    "nn": "nn_NO",
    "sv": "sv_SE",
    "da": "da_DK",
    "fi": "fi_FI",
}

# Where a locale's own currency pattern glues an alphabetic code to the digits ("NOK1,245.50"),
# a no-break space keeps them apart. The currency's own number of decimals still applies.
_CURRENCY_PATTERNS = {"en_GB": "¤\u00a0#,##0.00"}


def babel_locale(language: str | None = None) -> str:
    """``"nb"`` → ``"nb_NO"``; the active language when none is given."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    base = code.replace("_", "-").split("-")[0]
    return _BABEL_LOCALES.get(code, _BABEL_LOCALES.get(base, base))


def minor_to_decimal(amount_minor: int, currency: str) -> Decimal:
    """``124550, "NOK"`` → ``Decimal("1245.50")``; exact, never via float."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError("amount must be an int of minor units")
    return Decimal(amount_minor).scaleb(-CURRENCY_EXPONENTS.get(currency, 2))


def format_money(amount_minor: int, currency: str, *, language: str | None = None) -> str:
    """``124550, "NOK"`` → ``"1 245,50 kr"`` (nb) or ``"NOK 1,245.50"`` (en); spaces are no-break."""
    locale = babel_locale(language)
    return babel_numbers.format_currency(
        minor_to_decimal(amount_minor, currency), currency, format=_CURRENCY_PATTERNS.get(locale), locale=locale
    )


def format_number(value: int | Decimal, *, language: str | None = None) -> str:
    """``12345.5`` → ``"12 345,5"`` (nb) or ``"12,345.5"`` (en)."""
    return babel_numbers.format_decimal(value, locale=babel_locale(language))


def format_percent(value: int | Decimal, *, language: str | None = None) -> str:
    """A percentage given as a number of per cent: ``12.5`` → ``"12,5 %"`` (nb) or ``"12.5%"`` (en)."""
    return babel_numbers.format_percent(Decimal(value) / 100, locale=babel_locale(language), decimal_quantization=False)


def _local(value: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return _local(value).date() if isinstance(value, datetime.datetime) else value


# Date styles: "medium" 5 Dec 2026 / 5. des. 2026; "long" 5 December 2026 / 5. desember 2026;
# "month" December 2026 / desember 2026; "day_month" 5 Dec / 5. des.
_DATE_SKELETONS = {"month": "yMMMM", "day_month": "MMMd"}


def format_date(value: datetime.date | datetime.datetime, style: str = "medium", *, language: str | None = None) -> str:
    """A calendar day (a datetime is first moved to the current time zone)."""
    locale = babel_locale(language)
    day = _as_date(value)
    if style in _DATE_SKELETONS:
        return babel_dates.format_skeleton(_DATE_SKELETONS[style], day, locale=locale)
    return babel_dates.format_date(day, format=style, locale=locale)


def format_time(value: datetime.datetime | datetime.time, *, seconds: bool = False, language: str | None = None) -> str:
    """``21:05`` in the current time zone (12-hour where the locale says so)."""
    moment = _local(value) if isinstance(value, datetime.datetime) else value
    return babel_dates.format_time(moment, format="medium" if seconds else "short", locale=babel_locale(language))


def format_datetime(
    value: datetime.datetime,
    style: Literal["full", "long", "medium", "short"] = "medium",
    *,
    seconds: bool = False,
    language: str | None = None,
) -> str:
    """``5 Dec 2026, 21:05`` (en) or ``5. des. 2026, 21:05`` (nb), in the current time zone."""
    locale = babel_locale(language)
    moment = _local(value)
    pattern = babel_dates.get_datetime_format(style, locale=locale)
    return (
        str(pattern)
        .replace("{1}", format_date(moment, style, language=language))
        .replace("{0}", format_time(moment, seconds=seconds, language=language))
    )


@contextmanager
def person_locale(person: object) -> Iterator[None]:
    """Write to one person in their language and time zone (e-mails, SMS, push, PDFs built by tasks).

    ``person`` is a user (duck-typed: the base app does not import accounts): its ``language``, else
    ``settings.LANGUAGE_CODE``; its ``time_zone``, else ``settings.TIME_ZONE``.
    """
    language = getattr(person, "language", "") or settings.LANGUAGE_CODE
    zone_name = getattr(person, "time_zone", "") or settings.TIME_ZONE
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with translation.override(language), timezone.override(zone):
        yield
