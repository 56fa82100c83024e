"""Password reset by a code sent to the person's e-mail address or, for people who signed up by phone,
by SMS.

allauth resets by code (``ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED``) but only to an e-mail address. We
keep its whole flow — the code's expiry and attempt limit, the confirm and new-password pages, the
headless ``/auth/password/reset`` step — and add only the request: a form (HTML) and an input
(headless) that take ``email`` or ``phone``, and a verification process that sends the code by SMS.
The process's state is allauth's; its ``email`` is empty for a phone request, so allauth's own steps
after the code (which resume the base class) find no e-mail address to mark verified and carry on.

Enumeration protection: an unknown e-mail address or phone number goes through exactly the same
steps and pages as a known one; only the message differs (an e-mail saying there is no account, for
an address; nothing at all for a phone number, because texting numbers nobody registered would let
anyone make us send paid SMS to any number, the "SMS pumping" fraud).

This module imports ``allauth.account.forms``, which imports our sign-up form base
(``accounts.forms``) while it loads, so it is a module of its own.
"""

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import ResetPasswordForm
from allauth.account.internal.flows.password_reset_by_code import PasswordResetVerificationProcess
from allauth.headless.account.views import RequestPasswordResetView
from allauth.headless.internal.restkit import inputs
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cashback.forms import CardNumberGuardMixin

EMAIL_OR_PHONE_REQUIRED = _("Enter the email address or the phone number of your account.")
EMAIL_AND_PHONE_GIVEN = _("Enter either your email address or your phone number, not both.")


class SmsPasswordResetProcess(PasswordResetVerificationProcess):
    """allauth's password-reset-by-code process, sending the code to a phone number by SMS."""

    @classmethod
    def initiate_for_phone(
        cls, *, request: HttpRequest, user: AbstractBaseUser | None, phone: str
    ) -> "SmsPasswordResetProcess":
        state = cls.initial_state(user, phone=phone)
        # allauth's later steps read state["email"] (to mark an address verified); none here.
        state["email"] = ""
        process = cls(request, state=state, user=user)
        process.send()
        process.persist()
        return process

    def send(self) -> None:
        if not self.user:
            return  # no SMS to a number without an account (see the module's docstring)
        code = get_adapter().generate_password_reset_code()
        self.state["code"] = code
        get_adapter().send_password_reset_code_sms(phone=self.state["phone"], code=code)


class PasswordResetRequestForm(CardNumberGuardMixin, ResetPasswordForm):
    """The reset request of the web page (``ACCOUNT_FORMS["reset_password"]``): an e-mail address or a
    phone number. allauth's views rate-limit on ``cleaned_data["email"]``; for a phone request it
    holds the normalised number, so each number has its own limit."""

    email = forms.EmailField(label=_("Email address"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"] = get_adapter().phone_form_field(required=False)
        self.fields["phone"].label = _("Or phone number")
        self.users: list[User] = []

    def clean_email(self) -> str:
        if not self.cleaned_data.get("email"):
            return ""
        return super().clean_email()

    def clean(self) -> dict[str, Any] | None:
        cleaned_data = super().clean() or {}
        if self.errors:
            return cleaned_data
        email, phone = cleaned_data.get("email"), cleaned_data.get("phone")
        if email and phone:
            raise forms.ValidationError(EMAIL_AND_PHONE_GIVEN, code="email_and_phone")
        if not email and not phone:
            raise forms.ValidationError(EMAIL_OR_PHONE_REQUIRED, code="email_or_phone_required")
        if phone:
            user = get_adapter().get_user_by_phone(phone)
            self.users = [user] if user is not None and user.is_active else []
            cleaned_data["email"] = phone  # the rate limit's key (see the class docstring)
        return cleaned_data

    def save(self, request: HttpRequest, **kwargs: Any) -> str:
        phone = self.cleaned_data.get("phone")
        if not phone:
            return super().save(request, **kwargs)
        SmsPasswordResetProcess.initiate_for_phone(
            request=request, user=self.users[0] if self.users else None, phone=phone
        )
        return phone


class PasswordResetRequestInput(PasswordResetRequestForm, inputs.Input):
    """The same request as JSON: ``{"email": ...}`` or ``{"phone": ...}``."""


class PasswordResetRequestView(RequestPasswordResetView):
    """allauth's headless ``POST /_allauth/<client>/v1/auth/password/request`` with our input."""

    input_class = PasswordResetRequestInput
