from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import StaffInvitation, User
from accounts.staff_roles import STAFF_ROLES
from accounts.validators import phone_number_normalize
from cashback.forms import GuardedForm
from cashback.models import WebhookSource, WebhookStatus
from merchants.models import Merchant


class MerchantFilterForm(GuardedForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name, organisation number or contact e-mail"),
        widget=forms.SearchInput(),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", "Any status"), *Merchant.Status.choices]
    )


class InboxFilterForm(GuardedForm):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", "Unmatched and failed"), *WebhookStatus.choices],
    )
    source = forms.ChoiceField(label=_("Source"), required=False, choices=[("", "Any source"), *WebhookSource.choices])
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=255,
        help_text=_("Event id, event type or Stripe account (start of)"),
        widget=forms.SearchInput(),
    )


class UserSearchForm(GuardedForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name, e-mail, phone, a card's last four digits or a referral code"),
        widget=forms.SearchInput(),
    )


class BlockReasonForm(GuardedForm):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class AuditFilterForm(GuardedForm):
    actor = forms.CharField(
        label=_("Actor"), required=False, max_length=100, help_text=_("Staff e-mail (start of) or id")
    )
    action = forms.CharField(label=_("Action"), required=False, max_length=64, help_text=_("E.g. user.block, or user."))
    target = forms.CharField(
        label=_("Target"), required=False, max_length=100, help_text=_("accounts.user:42, a type or an id")
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end comes before the start."))
        return data


class PersonCreateForm(GuardedForm):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, help_text=_("Norwegian numbers may leave out +47.")
    )
    channel = forms.ChoiceField(
        label=_("Send the invitation by"), choices=StaffInvitation.Channel.choices, widget=forms.RadioSelect
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email and User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Someone already has an account with this e-mail address."))
        return email

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if not phone:
            return ""
        phone = phone_number_normalize(phone)
        if User.objects.filter(phone=phone).exists():
            raise forms.ValidationError(_("Someone already has an account with this phone number."))
        return phone

    def clean(self) -> dict:
        data = super().clean() or {}
        channel = data.get("channel")
        if channel == StaffInvitation.Channel.EMAIL and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("An invitation by e-mail needs an e-mail address."))
        if channel == StaffInvitation.Channel.SMS and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("An invitation by SMS needs a phone number."))
        return data


class InviteForm(GuardedForm):
    channel = forms.ChoiceField(label=_("Send by"), choices=StaffInvitation.Channel.choices)


class StaffRolesForm(GuardedForm):
    roles = forms.MultipleChoiceField(
        label=_("Staff roles"),
        required=False,
        choices=[(role, role.capitalize()) for role in STAFF_ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "No role: not staff. Support reads people and purchases; marketing owns content and offers; "
            "finance owns money; administrators everything."
        ),
    )


class StaffFindForm(GuardedForm):
    email = forms.EmailField(label=_("E-mail of the person"))
