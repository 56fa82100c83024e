from django import forms

from cashback.forms import GuardedForm
from cashback.models import WebhookSource, WebhookStatus
from merchants.models import Merchant


class MerchantFilterForm(GuardedForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Name, organisation number or contact e-mail",
        widget=forms.SearchInput(),
    )
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Merchant.Status.choices])


class InboxFilterForm(GuardedForm):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Unmatched and failed"), *WebhookStatus.choices],
    )
    source = forms.ChoiceField(label="Source", required=False, choices=[("", "Any source"), *WebhookSource.choices])
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=255,
        help_text="Event id, event type or Stripe account (start of)",
        widget=forms.SearchInput(),
    )
