"""Forms of the marketing admin's action rules, the programme admin's master data and cancelling a
contract: shapes only; the services check the rules."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cashback.forms import GuardedForm
from programmes.action_models import ActionKind, ActionRule, LimitPeriod, ValueKind
from programmes.forms import DateInput
from programmes.models import Brand
from wallet.errors import InvalidLedgerRequestError
from wallet.money import decimal_string_to_minor, minor_to_decimal_string

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
MAX_CASH_MINOR = 10**12


class ActionRuleForm(GuardedForm):
    name = forms.CharField(label=_("Name"), max_length=150)
    action = forms.ChoiceField(label=_("Action"), choices=ActionKind.choices)
    value_kind = forms.ChoiceField(label=_("Reward in"), choices=ValueKind.choices)
    value = forms.CharField(
        label=_("Reward"), max_length=20, help_text=_("Cash as an amount, e.g. 25.00; points as a whole number.")
    )
    limit_count = forms.IntegerField(label=_("At most"), min_value=1, max_value=1000, initial=1)
    limit_period = forms.ChoiceField(label=_("times per member"), choices=LimitPeriod.choices)
    active_from = forms.DateField(label=_("From"), widget=DateInput)
    active_until = forms.DateField(
        label=_("Until"), widget=DateInput, required=False, help_text=_("The last day; empty: no end.")
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Only on"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every day."),
    )
    budget = forms.CharField(
        label=_("Budget"),
        max_length=20,
        required=False,
        help_text=_(
            "The most the rule may give in total, to all members, in the reward's unit (an amount or points); "
            "empty: no cap. When it is used up, actions earn nothing and members see why."
        ),
    )
    paused = forms.BooleanField(label=_("Paused"), required=False)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    @classmethod
    def initial_of(cls, rule: ActionRule) -> dict[str, Any]:
        until = timezone.localtime(rule.active_until).date() - datetime.timedelta(days=1) if rule.active_until else None
        return {
            "name": rule.name,
            "action": rule.action,
            "value_kind": rule.value_kind,
            "value": str(rule.value)
            if rule.value_kind == ValueKind.POINTS
            else minor_to_decimal_string(rule.value, rule.currency),
            "limit_count": rule.limit_count,
            "limit_period": rule.limit_period,
            "active_from": timezone.localtime(rule.active_from).date(),
            "active_until": until,
            "weekdays": [day for day in range(7) if rule.weekdays & (1 << day)],
            "paused": rule.paused,
            "budget": ""
            if rule.budget is None
            else str(rule.budget)
            if rule.value_kind == ValueKind.POINTS
            else minor_to_decimal_string(rule.budget, rule.currency),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("value", "budget"):
            text = str(data.get(field) or "").strip()
            data[field] = self._in_unit(field, text, data.get("value_kind")) if text else None
        return data

    def _in_unit(self, field: str, text: str, value_kind: object) -> int | None:
        """An amount in minor units, or whole points; None (with a form error) when it is neither."""
        if value_kind == ValueKind.POINTS:
            if not text.isdigit() or int(text) <= 0 or int(text) > MAX_CASH_MINOR:
                self.add_error(field, _("Points are a whole number above zero, e.g. 150."))
                return None
            return int(text)
        try:
            amount = decimal_string_to_minor(text, self.currency)
        except (ValueError, InvalidLedgerRequestError):
            self.add_error(field, _("Enter an amount like 25.00."))
            return None
        if amount <= 0 or amount > MAX_CASH_MINOR:
            self.add_error(field, _("Enter an amount above zero."))
            return None
        return amount

    def service_arguments(self) -> dict[str, Any]:
        """The form's values as ``actions.action_rule_save`` takes them: days become the local midnight
        that starts them, and "until" the midnight after its last day."""
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        until = data.get("active_until")
        return {
            "name": data["name"],
            "action": data["action"],
            "value_kind": data["value_kind"],
            "value": data["value"],
            "limit_count": data["limit_count"],
            "limit_period": data["limit_period"],
            "active_from": datetime.datetime.combine(data["active_from"], datetime.time.min, tzinfo=zone),
            "active_until": datetime.datetime.combine(
                until + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
            )
            if until
            else None,
            "weekdays": data.get("weekdays") or [],
            "paused": data.get("paused", False),
            "budget": data.get("budget"),
        }


class RegionForm(GuardedForm):
    name = forms.CharField(label=_("Region"), max_length=100)


class BrandForm(GuardedForm):
    name = forms.CharField(label=_("Brand"), max_length=100)


class ProductForm(GuardedForm):
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=Brand.objects.none(), empty_label=None)
    sku = forms.CharField(label=_("SKU"), max_length=40, help_text=_("As your sales data and orders name it."))
    name = forms.CharField(label=_("Product name"), max_length=150)

    def __init__(self, *args: Any, brands: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        brand = self.fields["brand"]
        assert isinstance(brand, forms.ModelChoiceField)
        brand.queryset = brands


class CancelForm(GuardedForm):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class RenameForm(GuardedForm):
    """Rename a region, brand or product, or (``action=remove``) remove it; the name is ignored then."""

    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    action = forms.ChoiceField(choices=[("rename", "rename"), ("remove", "remove")], widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "rename" and not (data.get("name") or "").strip():
            self.add_error("name", _("Give the new name."))
        return data
