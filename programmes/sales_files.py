"""Reading a sales CSV that a finance admin uploads: every row checked, every bad row reported.

The file has a header row with the columns ``customer_code``, ``sku``, ``date`` (YYYY-MM-DD), ``quantity``
(a positive whole number) and ``value`` (the amount sold in the brand owner's currency, e.g. ``1250.00``;
may be empty for volume programmes). Nothing here writes: ``programmes.services.sales_file_apply``
applies a file only when ``sales_file_read`` found no error at all.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.utils.translation import gettext

from programmes.models import BrandOwner, BusinessCustomer, Product
from wallet.errors import InvalidLedgerRequestError
from wallet.money import parse_amount

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
COLUMNS = ("customer_code", "sku", "date", "quantity", "value")
MAX_REPORTED_ERRORS = 200


@dataclass(frozen=True)
class SalesRow:
    line_number: int
    customer: BusinessCustomer
    product: Product
    sold_on: datetime.date
    quantity: int
    value_minor: int


@dataclass
class SalesFileReading:
    rows: list[SalesRow]
    errors: list[tuple[int, str]]


def _decode(content: bytes) -> str | None:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _quantity(raw: str) -> int | str:
    text = raw.strip()
    try:
        quantity = int(text)
    except ValueError:
        return gettext("quantity %(value)s is not a whole number") % {"value": repr(text)}
    if quantity <= 0:
        return gettext("quantity %(value)s must be more than zero") % {"value": quantity}
    return quantity


def _value(raw: str, currency: str) -> int | str:
    text = raw.strip()
    if not text:
        return 0
    if text.startswith("-"):
        return gettext("value %(value)s must not be negative") % {"value": repr(text)}
    try:
        return parse_amount(text, currency)
    except InvalidLedgerRequestError as error:
        return gettext("value %(value)s: %(problem)s") % {"value": repr(text), "problem": error.message}


def _date(raw: str) -> datetime.date | str:
    text = raw.strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return gettext("date %(value)s is not a date like 2026-03-31") % {"value": repr(text)}


def sales_file_read(*, brand_owner: BrandOwner, content: bytes) -> SalesFileReading:
    """Parse and check every row against the brand owner's customers and products (two queries)."""
    reading = SalesFileReading(rows=[], errors=[])
    if len(content) > MAX_FILE_BYTES:
        reading.errors.append(
            (0, gettext("The file is larger than %(size)s MB.") % {"size": MAX_FILE_BYTES // (1024 * 1024)})
        )
        return reading
    text = _decode(content)
    if text is None:
        reading.errors.append((0, gettext("The file is not UTF-8 text.")))
        return reading
    records = list(csv.reader(io.StringIO(text)))
    if not records or [column.strip().lower() for column in records[0]] != list(COLUMNS):
        reading.errors.append(
            (1, gettext("The first row must name the columns: %(columns)s.") % {"columns": ",".join(COLUMNS)})
        )
        return reading
    body = [(number, record) for number, record in enumerate(records[1:], start=2) if any(f.strip() for f in record)]
    if not body:
        reading.errors.append((0, gettext("The file has no sales rows.")))
        return reading
    if len(body) > MAX_ROWS:
        reading.errors.append((0, gettext("The file has more than %(rows)s rows; split it.") % {"rows": MAX_ROWS}))
        return reading

    codes = {record[0].strip() for _, record in body if record}
    skus = {record[1].strip() for _, record in body if len(record) > 1}
    customers = {c.code: c for c in BusinessCustomer.objects.filter(brand_owner=brand_owner, code__in=codes)}
    products = {p.sku: p for p in Product.objects.filter(brand_owner=brand_owner, sku__in=skus)}

    for number, record in body:
        if len(record) != len(COLUMNS):
            reading.errors.append(
                (
                    number,
                    gettext("expected %(expected)s columns, found %(found)s")
                    % {"expected": len(COLUMNS), "found": len(record)},
                )
            )
            continue
        code, sku, raw_date, raw_quantity, raw_value = (field.strip() for field in record)
        problems: list[str] = []
        customer = customers.get(code)
        if customer is None:
            problems.append(gettext("unknown customer %(code)s") % {"code": repr(code)})
        product = products.get(sku)
        if product is None:
            problems.append(gettext("unknown product %(sku)s") % {"sku": repr(sku)})
        sold_on = _date(raw_date)
        quantity = _quantity(raw_quantity)
        value = _value(raw_value, brand_owner.currency)
        problems += [p for p in (sold_on, quantity, value) if isinstance(p, str)]
        if problems:
            reading.errors.append((number, "; ".join(problems)))
            continue
        assert customer is not None and product is not None
        assert isinstance(sold_on, datetime.date) and isinstance(quantity, int) and isinstance(value, int)
        reading.rows.append(
            SalesRow(
                line_number=number,
                customer=customer,
                product=product,
                sold_on=sold_on,
                quantity=quantity,
                value_minor=value,
            )
        )
    del reading.errors[MAX_REPORTED_ERRORS:]
    return reading
