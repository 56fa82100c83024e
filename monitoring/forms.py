"""Forms of the monitoring pages: the purchase search (every field optional, checked here so bad
input is a form error, never a 500) and the reason staff give for a decision on a flag."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from campaigns.models import Purchase
from cashback.amounts import CURRENCY_EXPONENTS
from cashback.forms import GuardedForm
from monitoring.selectors import PurchaseFilters

DEFAULT_EXPONENT = 2


class PurchaseSearchForm(GuardedForm):
    card_last_four = forms.RegexField(
        regex=r"^[0-9]{4}$",
        required=False,
        label="Card last four",
        max_length=4,
        error_messages={"invalid": "The last four digits of the card, e.g. 4242."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    merchant = forms.CharField(required=False, max_length=100, label="Merchant (name or id)")
    currency = forms.ChoiceField(
        required=False, choices=[("", "Any")] + [(code, code) for code in CURRENCY_EXPONENTS], label="Currency"
    )
    amount_min = forms.DecimalField(
        required=False, min_value=Decimal(0), max_digits=14, decimal_places=2, label="Amount from"
    )
    amount_max = forms.DecimalField(
        required=False, min_value=Decimal(0), max_digits=14, decimal_places=2, label="Amount to"
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Purchase.Status.choices], label="Status")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    flagged_only = forms.BooleanField(required=False, label="Flagged only")

    def clean(self) -> dict[str, Any]:
        super().clean()  # Form.clean returns self.cleaned_data; the stubs allow None for overrides
        data = self.cleaned_data
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("The upper amount must not be below the lower one."))
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return data

    def filters(self) -> PurchaseFilters:
        """The valid form's filters, amounts in minor units of the chosen currency (two decimals
        when none is chosen: every currency the platform holds has two)."""
        data = self.cleaned_data
        exponent = CURRENCY_EXPONENTS.get(data.get("currency") or "", DEFAULT_EXPONENT)

        def minor(amount: Decimal | None) -> int | None:
            return None if amount is None else int(amount.scaleb(exponent))

        return PurchaseFilters(
            card_last_four=data.get("card_last_four") or "",
            merchant=data.get("merchant") or "",
            currency=data.get("currency") or "",
            amount_min_minor=minor(data.get("amount_min")),
            amount_max_minor=minor(data.get("amount_max")),
            status=data.get("status") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            flagged_only=bool(data.get("flagged_only")),
        )


class FlagDecisionForm(GuardedForm):
    reason = forms.CharField(
        max_length=300,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the staff audit log with your decision.",
    )
