"""The filters and totals of the staff panel's money lists (payouts, invoices, disbursements,
adjustments): status, an inclusive range of days in the site's time zone, and currency.

It lives in the wallet, the lowest app that holds money, so that each app's own staff page (the
wallet's payouts, charity's disbursements, the staff panel's invoices and adjustments) uses one form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.db.models import Count, Model, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cashback.forms import GuardedForm
from wallet.models import Currency

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a str or a lazy translation

ModelT = TypeVar("ModelT", bound=Model)
MAX_FILTER_DAYS = 3660


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


class MoneyFilterForm(GuardedForm):
    """Every field is optional; bad dates or an end before the start are form errors (the list then
    shows unfiltered, with the errors beside the fields)."""

    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status")])
    currency = forms.ChoiceField(label="Currency", required=False, choices=[("", "Any currency"), *Currency.choices])
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, statuses: Sequence[tuple[str, StrOrPromise]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        status_field.choices = [("", "Any status"), *statuses]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                self.add_error("date_to", _("The last day is before the first day."))
            elif (end - start).days > MAX_FILTER_DAYS:
                self.add_error("date_to", _("Choose a shorter range."))
        return data

    def filters(self) -> dict[str, Any]:
        """The valid filters ({} when the form is unbound or has errors)."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}

    def apply(
        self,
        queryset: QuerySet[ModelT],
        *,
        date_field: str = "created_at",
        status_field: str = "status",
        currency_field: str = "currency",
        date_is_day: bool = False,
    ) -> QuerySet[ModelT]:
        """``queryset`` narrowed by the valid filters; ``date_is_day`` for a ``DateField`` (a period)."""
        chosen = self.filters()
        if "status" in chosen:
            queryset = queryset.filter(**{status_field: chosen["status"]})
        if "currency" in chosen:
            queryset = queryset.filter(**{currency_field: chosen["currency"]})
        is_datetime = not date_is_day
        if "date_from" in chosen:
            start = start_of_day(chosen["date_from"]) if is_datetime else chosen["date_from"]
            queryset = queryset.filter(**{f"{date_field}__gte": start})
        if "date_to" in chosen:
            if is_datetime:
                queryset = queryset.filter(**{f"{date_field}__lt": start_of_day(chosen["date_to"] + timedelta(days=1))})
            else:
                queryset = queryset.filter(**{f"{date_field}__lte": chosen["date_to"]})
        return queryset


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    total_minor: int


def money_totals(
    queryset: QuerySet[Any], *, amount_field: str = "amount_minor", currency_field: str = "currency"
) -> list[CurrencyTotal]:
    """Count and sum of ``queryset`` per currency, in one query."""
    rows = (
        queryset.order_by()
        .values(currency_field)
        .annotate(count=Count("pk"), total=Sum(amount_field))
        .order_by(currency_field)
    )
    return [
        CurrencyTotal(currency=row[currency_field], count=row["count"], total_minor=row["total"] or 0) for row in rows
    ]
