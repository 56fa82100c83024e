from django import forms

from merchants.models import Merchant


class MerchantFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Name, organisation number or contact e-mail",
        widget=forms.SearchInput(),
    )
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Merchant.Status.choices])
