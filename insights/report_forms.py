"""The reports' filters: a period (never longer than ``REPORT_MAX_RANGE_DAYS``), and for the
transaction report a shop, an offer and a status, each only the merchant's own."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Offer, Purchase
from cashback.forms import GuardedForm
from insights.report_selectors import ReportPeriod, TransactionFilters
from merchants.models import Location

if TYPE_CHECKING:
    from django.http import QueryDict

    from merchants.models import Merchant

DEFAULT_PERIOD_DAYS = 30


def with_default_period(data: QueryDict) -> dict[str, Any]:
    """The query's values, with the last ``DEFAULT_PERIOD_DAYS`` days when it names no period."""
    values: dict[str, Any] = {key: data.get(key) for key in data}
    today = timezone.localdate()
    values.setdefault("start", (today - timedelta(days=DEFAULT_PERIOD_DAYS - 1)).isoformat())
    values.setdefault("end", today.isoformat())
    return values


class _NamedChoiceField(forms.ModelChoiceField):
    """Options labelled by the row's own name or title (its ``__str__`` would load its merchant per option)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(getattr(obj, "name", None) or getattr(obj, "title", ""))


class ReportFilterForm(GuardedForm):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    shop: forms.ModelChoiceField[Location] = _NamedChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="All shops", label="Shop"
    )
    offer: forms.ModelChoiceField[Offer] = _NamedChoiceField(
        queryset=Offer.objects.none(), required=False, empty_label="All offers", label="Offer"
    )
    status = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[("", "All statuses"), *[choice for choice in Purchase.Status.choices if choice[0] != "awaiting"]],
    )

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the merchant's own: another merchant's id is "not one of the available choices".
        shops = cast(forms.ModelChoiceField, self.fields["shop"])
        shops.queryset = Location.objects.filter(merchant=merchant).only("id", "name").order_by("name")
        offers = cast(forms.ModelChoiceField, self.fields["offer"])
        offers.queryset = Offer.objects.filter(merchant=merchant).only("id", "title").order_by("-starts_at")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end date is before the start date."))
            elif (end - start).days + 1 > settings.REPORT_MAX_RANGE_DAYS:
                self.add_error(
                    "end",
                    _("A report covers at most %(days)s days.") % {"days": settings.REPORT_MAX_RANGE_DAYS},
                )
        return cleaned

    @property
    def period(self) -> ReportPeriod:
        return ReportPeriod(start=self.cleaned_data["start"], end=self.cleaned_data["end"])

    def transaction_filters(self) -> TransactionFilters:
        shop, offer = self.cleaned_data.get("shop"), self.cleaned_data.get("offer")
        return TransactionFilters(
            period=self.period,
            location_id=shop.pk if shop is not None else None,
            offer_id=offer.pk if offer is not None else None,
            status=self.cleaned_data.get("status") or "",
        )


class ExportForm(ReportFilterForm):
    """What to download: ``what`` (campaigns, summary or transactions) as ``fmt`` (csv or pdf)."""

    what = forms.ChoiceField(
        choices=[("transactions", "Transactions"), ("campaigns", "Campaigns"), ("summary", "Summary")]
    )
    fmt = forms.ChoiceField(choices=[("csv", "CSV"), ("pdf", "PDF")])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("what") == "campaigns" and cleaned.get("fmt") == "pdf":
            cleaned["what"] = "summary"
        if cleaned.get("what") == "summary" and cleaned.get("fmt") == "csv":
            cleaned["what"] = "campaigns"
        return cleaned
