"""Forms of the charity pages. They only shape input; the services decide (and their errors land on the fields)."""

import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cashback.errors import DomainError, form_error_from
from cashback.forms import GuardedForm, GuardedModelForm
from charity.donation_input import donation_amount_parse
from charity.models import Charity
from wallet.models import Currency
from wallet.money import minor_to_decimal_string, parse_amount


class DonateForm(GuardedForm):
    ALL = "all"
    AMOUNT = "amount"

    how_much = forms.ChoiceField(
        label=_("How much"),
        choices=[(AMOUNT, "An amount"), (ALL, "All of my available balance")],
        widget=forms.RadioSelect,
        initial=AMOUNT,
    )
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=20,
        help_text=_("For example 50 or 12.50."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    # A new key per form shown: submitting the same form twice donates once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, available: dict[str, int] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        available = available or {}
        currency_field = cast(forms.ChoiceField, self.fields["currency"])
        if available:
            currency_field.choices = [
                (currency, f"{currency} ({minor_to_decimal_string(amount, currency)} available)")
                for currency, amount in available.items()
            ]
        # The field's setter has normalised the choices to a list of pairs.
        choices = cast(list[tuple[str, str]], currency_field.choices)
        if len(choices) == 1:
            currency_field.widget = forms.HiddenInput()
            currency_field.initial = choices[0][0]

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("how_much") == self.AMOUNT and not (cleaned.get("amount") or "").strip():
            self.add_error("amount", _("Give an amount, or choose to give all of your available balance."))
            return cleaned
        if "how_much" in cleaned and "currency" in cleaned:
            typed = self.ALL if cleaned["how_much"] == self.ALL else cleaned.get("amount")
            try:
                cleaned["currency"], cleaned["amount_minor"] = donation_amount_parse(
                    currency=cleaned["currency"], amount=typed
                )
            except DomainError as error:
                form_error_from(self, error)
        return cleaned


class AutoDonateForm(GuardedForm):
    charity = forms.ModelChoiceField(
        label=_("Charity"),
        queryset=Charity.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label=_("Choose a charity"),
    )
    share_percent = forms.IntegerField(
        label=_("Share of every reward (%)"),
        min_value=0,
        max_value=100,
        help_text=_("0 to 100. It is given when a reward becomes available; 0 turns it off."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )


def _cost_field(currency: str) -> forms.CharField:
    return forms.CharField(
        label=f"Unit cost in {currency}",
        required=False,
        max_length=20,
        help_text=_("Leave empty if the charity has no cost in this currency."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class CharityForm(GuardedModelForm):
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    cost_NOK = _cost_field("NOK")
    cost_SEK = _cost_field("SEK")
    cost_DKK = _cost_field("DKK")
    cost_EUR = _cost_field("EUR")

    class Meta:
        model = Charity
        fields = [
            "name",
            "slug",
            "country",
            "organisation_number",
            "cause",
            "description",
            "website",
            "logo_path",
            "impact_unit",
            "impact_unit_plural",
            "stripe_account_id",
            "is_active",
        ]
        widgets = {
            "country": forms.Select(choices=[("NO", "Norway"), ("SE", "Sweden"), ("DK", "Denmark"), ("FI", "Finland")]),
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "slug": "The end of the address: skolebenken gives /charities/skolebenken/. Made from the name if empty.",
            "logo_path": "Path under the static files, e.g. charity/logos/skolebenken.svg. Empty shows initials.",
        }

    COST_FIELDS = {currency: f"cost_{currency}" for currency in Currency.values}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        if self.instance.pk:
            for cost in self.instance.impact_costs.all():
                self.initial[self.COST_FIELDS[cost.currency]] = minor_to_decimal_string(
                    cost.unit_cost_minor, cost.currency
                )

    def _post_clean(self) -> None:
        # The service validates and saves (organisation number, slug, Stripe id): the model
        # form must not write the instance nor run the database checks itself.
        pass

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}

    def impact_costs(self) -> dict[str, int | None]:
        """Unit costs as typed, parsed to minor units (errors are added to the fields; None where empty)."""
        costs: dict[str, int | None] = {}
        for currency, name in self.COST_FIELDS.items():
            text = (self.cleaned_data.get(name) or "").strip()
            if not text:
                costs[currency] = None
                continue
            try:
                costs[currency] = parse_amount(text, currency)
            except DomainError as error:
                self.add_error(name, error.message)
        return costs
