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


class UserSearchForm(GuardedForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Name, e-mail, phone, a card's last four digits or a referral code",
        widget=forms.SearchInput(),
    )


class BlockReasonForm(GuardedForm):
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class AuditFilterForm(GuardedForm):
    actor = forms.CharField(label="Actor", required=False, max_length=100, help_text="Staff e-mail (start of) or id")
    action = forms.CharField(label="Action", required=False, max_length=64, help_text="E.g. user.block, or user.")
    target = forms.CharField(
        label="Target", required=False, max_length=100, help_text="accounts.user:42, a type or an id"
    )
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end comes before the start.")
        return data
