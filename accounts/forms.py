"""Forms of the accounts pages.

``SignupExtraForm`` is the base of allauth's ``ACCOUNT_SIGNUP_FORM_CLASS`` (the referral programme's
``referrals.forms.ReferralSignupForm`` adds the check of a typed code): allauth builds both its HTML
sign-up form and its headless sign-up input on top of it, so the consent fields and the
"email or phone" rule apply to the web page and the mobile API alike. This module must not
import ``allauth.account.forms`` (that module imports this one while it is being loaded).
"""

from typing import Any

from allauth.core import context
from django import forms
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts import services, visitor
from accounts.models import User
from accounts.time_zones import time_zone_names
from accounts.validators import BIRTH_YEAR_MIN, birth_year_max, validate_birth_date, validate_birth_year
from cashback.card_guard import VALIDATED_PHONE_FIELDS
from cashback.forms import GuardedForm

EMAIL_OR_PHONE_REQUIRED = _("Enter an email address or a phone number (or both).")


class SignupExtraForm(GuardedForm):
    # allauth's phone field (added to its sign-up form, which extends this one) is validated as a
    # dialable number by the adapter (accounts.adapter.clean_phone) before it is stored.
    phone_fields = VALIDATED_PHONE_FIELDS
    field_order = [
        "email",
        "phone",
        "password1",
        "password2",
        "password",
        "referral_code",
        "accept_terms",
        "accept_marketing",
    ]

    referral_code = forms.CharField(
        label=_("Referral code (optional)"),
        max_length=32,
        required=False,
        help_text=_("From a friend who invited you: you both get a bonus after your first purchase."),
    )

    accept_terms = forms.BooleanField(
        label=_("I accept the terms of service"),
        error_messages={"required": _("You must accept the terms of service to create an account.")},
    )
    accept_marketing = forms.BooleanField(
        label=_("Send me offers and news (optional; you can change this any time on your profile)"),
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Beside the box, a link to the terms it accepts (content's /terms/: never a dead link).
        self.fields["accept_terms"].help_text = format_html(
            '<a href="{}" target="_blank" rel="noopener">Read the terms of service</a> (opens in a new tab)',
            reverse("terms"),
        )
        # The code of the friend's link the visitor came through (/r/<code>/), shown pre-filled.
        request = context.request
        if request is not None and not self.is_bound:
            self.initial.setdefault("referral_code", visitor.remembered_code(request))

    def clean_referral_code(self) -> str:
        """The code as stored; whether it belongs to anyone is the referral programme's check
        (``referrals.forms.ReferralSignupForm``)."""
        return visitor.normalize_code(self.cleaned_data.get("referral_code"))

    def clean(self) -> dict[str, Any] | None:
        cleaned_data = super().clean()
        given = [str(self.data.get(name) or "").strip() for name in ("email", "phone")]
        if not any(given):
            self.add_error(None, forms.ValidationError(EMAIL_OR_PHONE_REQUIRED, code="email_or_phone_required"))
        return cleaned_data

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth once the account exists. A typed code wins over a remembered one; the
        device and network are read here, from the request, for the fact's subscribers."""
        services.signup_complete(
            user=user,
            accepted_terms=self.cleaned_data["accept_terms"],
            marketing=self.cleaned_data.get("accept_marketing", False),
            referral_code=self.cleaned_data.get("referral_code", "") or visitor.remembered_code(request),
            ip=visitor.client_ip(request),
            device_id=visitor.device_id(request),
        )
        visitor.forget_code(request)


class ProfileForm(GuardedForm):
    full_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    birth_year = forms.IntegerField(label=_("Birth year"), required=False, validators=[validate_birth_year])
    birth_date = forms.DateField(
        label=_("Birthday"),
        required=False,
        validators=[validate_birth_date],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional: some programmes give you a birthday reward."),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *User.Gender.choices], required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=[("", "—")], required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"), required=False, help_text=_("Times are shown in this zone. Empty: Europe/Oslo.")
    )
    marketing = forms.BooleanField(label=_("Send me offers and news"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["birth_year"].widget.attrs.update({"min": BIRTH_YEAR_MIN, "max": birth_year_max()})
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)  # declared above
        language.choices = [("", "—"), *(User._meta.get_field("language").choices or ())]
        zone = self.fields["time_zone"]
        assert isinstance(zone, forms.ChoiceField)  # declared above
        zone.choices = [("", "—"), *((name, name) for name in time_zone_names())]


class _NoEchoTextInput(forms.TextInput):
    """A text input that never renders its value back: a card number must not travel twice."""

    def format_value(self, value):
        return None


class DevCardEnrolForm(GuardedForm):
    """The fake card network's enrolment form (development only)."""

    card_number_fields = ("number",)  # the one form field meant for a card number (cashback/forms.py)

    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        help_text=_("Test numbers: 4242 4242 4242 4242, 4000 0566 5566 5556, 4111 1111 1111 1111."),
        widget=_NoEchoTextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    exp_month = forms.IntegerField(
        label=_("Expiry month"),
        min_value=1,
        max_value=12,
        widget=forms.NumberInput(attrs={"autocomplete": "cc-exp-month"}),
    )
    exp_year = forms.IntegerField(
        label=_("Expiry year"),
        min_value=2000,
        max_value=2100,
        help_text=_("Four digits, e.g. 2030."),
        widget=forms.NumberInput(attrs={"autocomplete": "cc-exp-year"}),
    )
