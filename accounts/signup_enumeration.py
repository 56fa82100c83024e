"""Sign-up with an e-mail address that already has an account, without saying so (enumeration
protection, ``ACCOUNT_PREVENT_ENUMERATION``).

allauth hides a taken address only when every e-mail must be verified before login
(``ACCOUNT_EMAIL_VERIFICATION=mandatory``); with our optional verification it answers "already
registered". Here a taken address takes allauth's own enumeration-safe path instead: no account is
made, the owner gets allauth's "someone tried to sign up with your address" mail, and the visitor
sees the "check your e-mail" page (headless: 401 with the ``verify_email`` flow pending). A taken
phone number needs nothing of ours: allauth already sends it to the SMS-code step and texts the owner.

What stays visible under optional verification: a *new* address is logged in at once, a taken one is
not. ``ACCOUNT_EMAIL_VERIFICATION=mandatory`` closes that too (docs/security.md).

This module imports ``allauth.account.forms``, which imports our sign-up form base while it loads.
"""

from typing import Any

from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.forms import SignupForm
from allauth.account.internal.flows.login import perform_login
from allauth.account.models import Login
from allauth.headless.account.inputs import SignupInput
from allauth.headless.account.views import SignupView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse


class TakenEmailLooksLikeAnySignupMixin:
    """For allauth's sign-up form and headless input: a taken e-mail address is not a form error."""

    account_already_exists: bool
    cleaned_data: dict[str, Any]

    def validate_unique_email(self, value: str) -> str:
        try:
            return super().validate_unique_email(value)  # type: ignore[misc]  # allauth's form below us
        except ValidationError as error:
            if error.code != "email_taken":
                raise
            self.account_already_exists = True
            return value

    def try_save(self, request: HttpRequest) -> tuple[Any, HttpResponse | None]:
        if not self.account_already_exists:
            return super().try_save(request)  # type: ignore[misc]  # allauth's form below us
        email = self.cleaned_data.get("email") or None
        # allauth's prevent_enumeration() with one change: the pretend login verifies its address as
        # under mandatory verification, which is what sends the owner's mail and shows the next step.
        login = Login(
            user=None,
            email=email,
            phone=self.cleaned_data.get("phone") or None,
            signup=True,
            email_verification=EmailVerificationMethod.MANDATORY if email else None,
        )
        return None, perform_login(request, login)


class EnumerationSafeSignupForm(TakenEmailLooksLikeAnySignupMixin, SignupForm):
    """The web page's sign-up form (``ACCOUNT_FORMS["signup"]``)."""


class EnumerationSafeSignupInput(TakenEmailLooksLikeAnySignupMixin, SignupInput):
    """The headless sign-up input."""


class EnumerationSafeSignupView(SignupView):
    """allauth's headless ``POST /_allauth/<client>/v1/auth/signup`` with our input."""

    input_class = {"POST": EnumerationSafeSignupInput}
