"""The base classes of every form of our apps: ``GuardedForm`` and ``GuardedModelForm`` (and the
mixin, ``CardNumberGuardMixin``, for forms that extend Django's or allauth's own).

A submitted value holding a full card number (cashback/card_guard.py) is a form error on its field,
whatever the field, so no page can store one (docs/cards.md). The check reads the raw submitted
values before the form's own cleaning and takes the faulty ones out of the data, so neither a
field's ``clean_*`` nor the form's ``clean`` ever sees the number, and the page does not show it
again. A form meant for a card number names the field in ``card_number_fields`` (only the fake card
network's enrolment page does). Password fields are not looked at, nor the fields a form names in
``phone_fields`` because it validates them as dialable phone numbers (``VALIDATED_PHONE_FIELDS`` in
cashback/card_guard.py). tests/test_card_numbers_in_forms.py finds every form class of our apps and
proves each refuses a number.
"""

from typing import TYPE_CHECKING, Any

from django import forms
from django.http import QueryDict

from cashback.card_guard import CARD_NUMBER_MESSAGE, contains_card_number, is_password_field


def _holds_card_number(raw: Any) -> bool:
    if isinstance(raw, str):
        return contains_card_number(raw)
    if isinstance(raw, list | tuple):
        return any(_holds_card_number(item) for item in raw)
    return False


if TYPE_CHECKING:
    # The mixin is only ever mixed into forms; the checker needs to know that.
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class CardNumberGuardMixin(_FormBase):
    card_number_fields: tuple[str, ...] = ()
    phone_fields: tuple[str, ...] = ()  # validated as dialable E.164 numbers before they are stored

    def _fields_holding_card_numbers(self) -> list[str]:
        faulty = []
        for name, field in self.fields.items():
            if name in self.card_number_fields or name in self.phone_fields or is_password_field(name):
                continue
            if isinstance(field.widget, forms.PasswordInput):
                continue
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            if _holds_card_number(raw):
                faulty.append(name)
        return faulty

    def _without(self, names: list[str]) -> Any:
        """The submitted data without those fields' values: the cleaning never sees the number, no
        error message repeats it ("… is not one of the available choices") and the page re-rendered
        with the errors does not show it again."""
        data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
        for name in names:
            key = self.add_prefix(name)
            widget = self.fields[name].widget
            suffixes = getattr(widget, "widgets_names", [])  # a MultiWidget's sub-fields (not in the stubs)
            for data_key in [key, *(f"{key}{suffix}" for suffix in suffixes)]:
                data.pop(data_key, None)
        return data

    def full_clean(self) -> None:
        faulty = self._fields_holding_card_numbers() if self.is_bound else []
        if faulty:
            self.data = self._without(faulty)
        super().full_clean()
        if faulty and not hasattr(self, "cleaned_data"):  # an empty extra form of a formset
            self.cleaned_data = {}
        for name in faulty:
            self.add_error(name, CARD_NUMBER_MESSAGE)
            self.errors[name] = self.error_class([CARD_NUMBER_MESSAGE])  # the one thing to fix there


class GuardedForm(CardNumberGuardMixin, forms.Form):
    pass


class GuardedModelForm(CardNumberGuardMixin, forms.ModelForm):
    pass
