"""The billing details form (portal and sign-up share its fields)."""

from typing import Any

from django import forms

from cashback.forms import GuardedForm


class BillingDetailsForm(GuardedForm):
    billing_email = forms.EmailField(label="Billing e-mail", help_text="Invoices and statements are sent here.")
    vat_number = forms.CharField(
        label="VAT number",
        max_length=30,
        required=False,
        help_text="Norway: your organisation number and MVA (123456789MVA). Sweden, Denmark, Finland: the EU "
        "format (SE…01, DK…, FI…). Leave empty if you are not VAT-registered.",
    )

    def service_arguments(self) -> dict[str, Any]:
        return {"billing_email": self.cleaned_data["billing_email"], "vat_number": self.cleaned_data["vat_number"]}
