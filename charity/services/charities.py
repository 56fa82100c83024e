"""The partner charities staff add and change: details, organisation numbers, impact unit costs."""

import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cashback.errors import DomainError
from cashback.organisation_numbers import validate_organisation_number
from charity.errors import (
    CharityNotFoundError,
    DuplicateCharityError,
    InvalidCharityError,
)
from charity.models import Charity, ImpactCost
from wallet.errors import UnknownCurrencyError
from wallet.models import Currency

_STRIPE_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{4,60}")
_CHARITY_FIELDS = (
    "name",
    "slug",
    "country",
    "organisation_number",
    "cause",
    "description",
    "logo_path",
    "website",
    "impact_unit",
    "impact_unit_plural",
    "is_active",
    "stripe_account_id",
)


# --- Charities (staff) ----------------------------------------------------------------------


def _clean_charity_fields(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    for name in ("name", "cause", "impact_unit", "impact_unit_plural"):
        cleaned[name] = (cleaned.get(name) or "").strip()
        if not cleaned[name]:
            errors.setdefault(name, []).append("This field is required.")
    cleaned["slug"] = slugify(cleaned.get("slug") or cleaned.get("name") or "")[:80]
    if not cleaned["slug"]:
        errors.setdefault("slug", []).append("Give a slug (letters, digits and dashes).")
    try:
        # The same rules as merchants' organisation numbers (Norway, Sweden, Denmark, Finland).
        cleaned["organisation_number"] = validate_organisation_number(
            cleaned.get("organisation_number") or "", country=cleaned.get("country") or ""
        )
    except DomainError as error:
        for name, messages in (error.fields or {"organisation_number": [error.message]}).items():
            errors.setdefault(name, []).extend(messages)
    cleaned["stripe_account_id"] = (cleaned.get("stripe_account_id") or "").strip()
    if cleaned["stripe_account_id"] and not _STRIPE_ACCOUNT.fullmatch(cleaned["stripe_account_id"]):
        errors.setdefault("stripe_account_id", []).append("A Stripe account id looks like acct_1AbC….")
    cleaned["logo_path"] = (cleaned.get("logo_path") or "").strip().lstrip("/")
    if ".." in cleaned["logo_path"]:
        errors.setdefault("logo_path", []).append("Give a path under the static files, e.g. charity/logos/x.svg.")
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidCharityError(first, fields=errors)
    return cleaned


def _clean_costs(impact_costs: Mapping[str, int | None]) -> dict[str, int | None]:
    cleaned: dict[str, int | None] = {}
    for currency, cost in impact_costs.items():
        if currency not in Currency.values:
            raise UnknownCurrencyError(_("Unknown currency: %(currency)s.") % {"currency": repr(currency)})
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int) or cost <= 0):
            message = "A unit cost is a positive amount."
            raise InvalidCharityError(message, fields={f"cost_{currency}": [message]})
        cleaned[currency] = cost
    return cleaned


def _save_costs(charity: Charity, costs: Mapping[str, int | None]) -> None:
    for currency, cost in costs.items():
        if cost is None:
            ImpactCost.objects.filter(charity=charity, currency=currency).delete()
        else:
            ImpactCost.objects.update_or_create(charity=charity, currency=currency, defaults={"unit_cost_minor": cost})


def charity_create(*, impact_costs: Mapping[str, int | None] | None = None, **values: Any) -> Charity:
    """Add a partner charity. ``impact_costs`` maps currency → minor units per impact unit.

    Raises ``InvalidCharityError`` (with fields), ``DuplicateCharityError``.
    """
    unknown = set(values) - set(_CHARITY_FIELDS)
    if unknown:
        raise InvalidCharityError(_("Unknown fields: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))})
    cleaned = _clean_charity_fields(values)
    costs = _clean_costs(impact_costs or {})
    try:
        with transaction.atomic():
            charity = Charity.objects.create(**cleaned)
            _save_costs(charity, costs)
    except IntegrityError as error:
        raise DuplicateCharityError() from error
    return charity


def charity_update(*, charity_id: int, impact_costs: Mapping[str, int | None] | None = None, **values: Any) -> Charity:
    """Change a charity's details (any subset of fields) and unit costs (``None`` removes a currency's cost)."""
    unknown = set(values) - set(_CHARITY_FIELDS)
    if unknown:
        raise InvalidCharityError(_("Unknown fields: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))})
    try:
        with transaction.atomic():
            charity = Charity.objects.select_for_update().get(pk=charity_id)
            current = {name: getattr(charity, name) for name in _CHARITY_FIELDS}
            cleaned = _clean_charity_fields({**current, **values})
            for name, value in cleaned.items():
                setattr(charity, name, value)
            charity.save()
            _save_costs(charity, _clean_costs(impact_costs or {}))
    except Charity.DoesNotExist:
        raise CharityNotFoundError() from None
    except IntegrityError as error:
        raise DuplicateCharityError() from error
    return charity
