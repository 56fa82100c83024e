"""The billing details form (portal and sign-up share its fields)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cashback.forms import GuardedForm


class BillingDetailsForm(GuardedForm):
    billing_email = forms.EmailField(label=_("Billing e-mail"), help_text=_("Invoices and statements are sent here."))
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=30,
        required=False,
        help_text=_(
            "Norway: your organisation number and MVA (123456789MVA). Sweden, Denmark, Finland: the EU "
            "format (SE…01, DK…, FI…). Leave empty if you are not VAT-registered."
        ),
    )

    def service_arguments(self) -> dict[str, Any]:
        return {"billing_email": self.cleaned_data["billing_email"], "vat_number": self.cleaned_data["vat_number"]}
