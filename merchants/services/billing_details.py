"""Billing details (billing e-mail, VAT number) and commission rates with history (F-M3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from merchants.errors import InvalidCommissionRateError
from merchants.models import CommissionRate, Merchant
from merchants.services.audit import AuditAction, audit_record
from merchants.services.locks import merchant_lock
from merchants.vat_numbers import validate_vat_number

if TYPE_CHECKING:
    from accounts.models import User

BILLING_FIELDS = ("billing_email", "vat_number")
MAX_RATE_DECIMALS = 4


def billing_details_update(*, merchant: Merchant, actor: User | None, billing_email: str, vat_number: str) -> Merchant:
    """Owners and managers change where invoices go and the VAT number on them (audited).

    Raises ``InvalidVatNumberError`` for a number that is not the merchant's country's format or
    not its own organisation number's.
    """
    new = {
        "billing_email": billing_email.strip(),
        "vat_number": validate_vat_number(
            vat_number, country=merchant.country, organisation_number=merchant.organisation_number
        ),
    }
    with transaction.atomic():
        locked = merchant_lock(merchant)
        changes = {f: {"from": getattr(locked, f), "to": v} for f, v in new.items() if getattr(locked, f) != v}
        if not changes:
            return locked
        for field, value in new.items():
            setattr(locked, field, value)
            setattr(merchant, field, value)
        locked.save(update_fields=[*new, "updated_at"])
        audit_record(
            merchant=locked, actor=actor, action=AuditAction.BILLING_DETAILS_CHANGED, details={"changes": changes}
        )
    return locked


def commission_rate_parse(value: str | Decimal) -> Decimal:
    """A rate from outside: a decimal fraction, 0 ≤ rate < 1, at most 4 decimals (never a float)."""
    if isinstance(value, float):
        raise InvalidCommissionRateError()
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidCommissionRateError(fields={"rate": [InvalidCommissionRateError.default_message]}) from exc
    exponent = rate.as_tuple().exponent
    if not rate.is_finite() or not isinstance(exponent, int) or rate < 0 or rate >= 1:
        raise InvalidCommissionRateError(fields={"rate": [InvalidCommissionRateError.default_message]})
    if -exponent > MAX_RATE_DECIMALS and rate != rate.quantize(Decimal(1).scaleb(-MAX_RATE_DECIMALS)):
        raise InvalidCommissionRateError(fields={"rate": [_("At most 4 decimals, e.g. 0.1250 for 12.5 %.")]})
    return rate.quantize(Decimal(1).scaleb(-MAX_RATE_DECIMALS))


def commission_rate_set(
    *, merchant: Merchant, rate: str | Decimal, valid_from: date, actor: User | None, note: str = ""
) -> CommissionRate:
    """Staff give a merchant its own commission rate from ``valid_from`` on (a new history row, audited).

    A month already invoiced keeps the figures it was invoiced with: the invoice stores them.
    """
    parsed = commission_rate_parse(rate)
    with transaction.atomic():
        locked = merchant_lock(merchant)
        row = CommissionRate.objects.create(
            merchant=locked, rate=parsed, valid_from=valid_from, set_by=actor, note=note.strip()[:200]
        )
        audit_record(
            merchant=locked,
            actor=actor,
            action=AuditAction.COMMISSION_RATE_SET,
            details={"rate": parsed, "valid_from": valid_from.isoformat(), "note": row.note},
        )
    return row
