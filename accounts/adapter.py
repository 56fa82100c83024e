"""Our hooks into django-allauth: phone numbers live on the User row and codes go out through the SMS provider."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.fields import PhoneField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import phone_number_normalize
from cashback.card_guard import CARD_NUMBER_MESSAGE, contains_card_number
from cashback.providers.sms import get_sms_client


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Where a login without ``?next=`` lands (after the two-factor step for staff): staff in the
        staff panel, merchant staff in their portal, everyone else in the wallet."""
        user = request.user
        if user.is_authenticated and user.is_staff:
            return reverse("adminpanel:index")
        # By the reverse relation: accounts sits below merchants and must not import it.
        if user.is_authenticated and user.merchant_memberships.exists():
            return reverse("merchants:portal")
        return super().get_login_redirect_url(request)

    def phone_form_field(self, **kwargs: Any) -> PhoneField:
        # allauth's field insists on "+<country code>"; we accept national Norwegian numbers too
        # and leave validation and E.164 normalisation to clean_phone().
        kwargs.setdefault("validators", [])
        if not kwargs.get("required", True):
            # Sign-up takes an email or a phone; say so like allauth's "Email (optional)".
            kwargs["label"] = _("Phone (optional)")
        kwargs.setdefault("help_text", "Norwegian numbers may leave out +47.")
        return PhoneField(**kwargs)

    def clean_email(self, email: str) -> str:
        """Every e-mail address allauth takes (sign-up, adding an address; pages and headless) passes
        here: one holding a full card number is refused like any other field (docs/cards.md)."""
        if contains_card_number(email):
            raise ValidationError(CARD_NUMBER_MESSAGE, code="card_number_present")
        return super().clean_email(email)

    def clean_phone(self, phone: str) -> str:
        return phone_number_normalize(phone)

    def save_user(self, request: HttpRequest, user: User, form: BaseForm, commit: bool = True) -> User:
        # The row must carry its email or phone when first inserted (database check constraint),
        # so let allauth fill the instance without saving and save it ourselves.
        user = super().save_user(request, user, form, commit=False)
        user.email = user.email or None
        user.phone = user.phone or None
        if commit:
            user.save()
        return user

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        if user.pk is not None:
            user.save(update_fields=["phone", "phone_verified", "updated_at"])

    def get_phone(self, user: User) -> tuple[str, bool] | None:
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user: User, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str) -> User | None:
        # The HTML login form passes the number as typed, so normalise it here as well.
        try:
            normalized = phone_number_normalize(phone)
        except ValidationError:
            return None
        return User.objects.filter(phone=normalized).first()

    def send_verification_code_sms(self, user: User, phone: str, code: str, **kwargs: Any) -> None:
        get_sms_client().send(to=phone, body=f"Your Cashback verification code is {code}")

    def send_password_reset_code_sms(self, *, phone: str, code: str) -> None:
        minutes = max(1, settings.ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT // 60)
        get_sms_client().send(
            to=phone,
            body=f"Your Cashback password reset code is {code} (valid for {minutes} minutes). "
            "If you did not ask for it, ignore this message.",
        )

    def send_account_already_exists_sms(self, phone: str) -> None:
        get_sms_client().send(
            to=phone, body="Someone tried to sign up to Cashback with this number, which already has an account."
        )

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        get_sms_client().send(to=phone, body="There is no Cashback account with this phone number.")
