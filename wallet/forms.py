from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cashback.forms import GuardedForm
from wallet.models import JournalKind


class EntryFilterForm(GuardedForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All movements")), *JournalKind.choices], required=False)
    date_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("Must not be before the start date."))
        return cleaned
