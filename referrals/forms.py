"""Forms of the referral pages: the sign-up form with the code check, the staff programme editor, the
review decision, a business submission.

Amounts are typed in kroner/euros and parsed exactly (``wallet.money``); zero is allowed here (a
programme may pay no friend bonus), so the field parses "0" itself and anything else with
``parse_amount``.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SignupExtraForm
from cashback.errors import DomainError
from cashback.forms import GuardedForm
from merchants.models import Country
from referrals.models import ReferralProgram
from referrals.services import LIMITS, CurrencyAmounts, referral_code_check
from wallet.models import Currency
from wallet.money import minor_to_decimal_string, parse_amount

AMOUNT_FIELDS = {
    # form field suffix → (label, CurrencyAmounts attribute)
    "referrer_bonus": ("Referrer's bonus", "referrer_bonus_minor"),
    "friend_bonus": ("Friend's bonus", "friend_bonus_minor"),
    "business_bonus": ("Business bonus", "business_bonus_minor"),
    "min_purchase": ("Minimum purchase", "min_purchase_minor"),
}


class ReferralSignupForm(SignupExtraForm):
    """allauth's ``ACCOUNT_SIGNUP_FORM_CLASS`` (web page and headless API): accounts' sign-up form plus
    the check that a typed code belongs to someone, so a wrong code is a form error (a 400 in the API)
    and nobody is created. Linking the friend happens on the ``user_signed_up`` fact."""

    def clean_referral_code(self) -> str:
        code = super().clean_referral_code()
        if code:
            try:
                referral_code_check(code=code)
            except DomainError as error:
                raise forms.ValidationError(error.message, code=error.code) from error
        return code


class MoneyField(forms.Field):
    """A decimal amount in ``currency`` → minor units (int). Empty → None; "0" → 0."""

    widget = forms.TextInput

    def __init__(self, *, currency: str, **kwargs: Any) -> None:
        self.currency = currency
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off", "maxlength": "20"})

    def to_python(self, value: Any) -> int | None:
        text = str(value if value is not None else "").strip().replace(",", ".")
        if not text:
            return None
        if len(text) > 20:
            raise forms.ValidationError(_("Enter an amount such as 50 or 49.50."), code="invalid_amount")
        try:
            number = Decimal(text)
            if number == 0:
                return 0
            if number < 0:
                raise forms.ValidationError(_("Enter zero or a positive amount."), code="invalid_amount")
        except InvalidOperation:
            raise forms.ValidationError(_("Enter an amount such as 50 or 49.50."), code="invalid_amount") from None
        try:
            return parse_amount(text, self.currency)
        except DomainError as error:
            raise forms.ValidationError(error.message, code=error.code) from error


def _amount_field_name(currency: str, suffix: str) -> str:
    return f"{currency}_{suffix}"


class ProgramForm(GuardedForm):
    """A new version of the programme's terms, pre-filled from the version in force."""

    based_on_version = forms.IntegerField(widget=forms.HiddenInput)
    qualification_window_days = forms.IntegerField(
        label=_("Qualification window (days)"),
        min_value=LIMITS["qualification_window_days"][0],
        max_value=LIMITS["qualification_window_days"][1],
        help_text=_("The friend's first qualifying purchase must be made within this many days of signing up."),
    )
    monthly_cap = forms.IntegerField(
        label=_("Bonuses per referrer per month"),
        min_value=LIMITS["monthly_cap"][0],
        max_value=LIMITS["monthly_cap"][1],
        help_text=_("Friends and businesses together; beyond it a referral is marked capped and pays nothing."),
    )
    review_window_hours = forms.IntegerField(
        label=_("Review window (hours)"),
        min_value=LIMITS["review_window_hours"][0],
        max_value=LIMITS["review_window_hours"][1],
        help_text=_("Sign-ups from one network or device within this many hours are held for staff review."),
    )
    note = forms.CharField(label=_("Why this change"), max_length=200, required=False)

    def __init__(self, *args: Any, program: ReferralProgram | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency_groups: list[tuple[str, list[str]]] = []
        for currency in Currency.values:
            names = []
            for suffix, (label, _attribute) in AMOUNT_FIELDS.items():
                name = _amount_field_name(currency, suffix)
                # The fieldset's legend names the currency; the label stays short so the four line up.
                self.fields[name] = MoneyField(currency=currency, label=label, required=False)
                names.append(name)
            self.currency_groups.append((currency, names))
        if program is not None and not self.is_bound:
            self.initial.update(
                based_on_version=program.version,
                qualification_window_days=program.qualification_window_days,
                monthly_cap=program.monthly_cap,
                review_window_hours=program.review_window_hours,
            )
            for amount in program.amounts.all():
                for suffix, (_label, attribute) in AMOUNT_FIELDS.items():
                    value = getattr(amount, attribute)
                    self.initial[_amount_field_name(amount.currency, suffix)] = minor_to_decimal_string(
                        value, amount.currency
                    )

    def currency_fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(currency, [self[name] for name in names]) for currency, names in self.currency_groups]

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        amounts: dict[str, CurrencyAmounts] = {}
        for currency, names in self.currency_groups:
            # Cleaned data of MoneyFields: ints, or None for an empty field (checked below).
            values: dict[str, Any] = {name: cleaned.get(name) for name in names}
            if all(value is None for value in values.values()):
                continue  # the currency is left out: no referral bonus in it
            missing = [name for name, value in values.items() if value is None and name not in self.errors]
            for name in missing:
                self.add_error(name, _("Fill in every amount of this currency, or leave them all empty."))
            if missing or any(name in self.errors for name in names):
                continue
            amounts[currency] = CurrencyAmounts(
                **{
                    attribute: values[_amount_field_name(currency, suffix)]
                    for suffix, (_label, attribute) in AMOUNT_FIELDS.items()
                }
            )
        if not amounts and not self.errors:
            self.add_error(None, _("Give the amounts for at least one currency."))
        cleaned["amounts"] = amounts
        return cleaned


class ReviewForm(GuardedForm):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('Required when rejecting. Kept for staff; the consumer sees "Not eligible".'),
    )


class BusinessReferralForm(GuardedForm):
    business_name = forms.CharField(label=_("Business name"), max_length=200)
    country = forms.ChoiceField(label=_("Country"), choices=Country.choices, initial=Country.NORWAY)
    organisation_number = forms.CharField(
        label=_("Organisation number"), max_length=20, help_text=_("From the business register, e.g. 923 609 016.")
    )
    contact_email = forms.EmailField(label=_("Contact e-mail (optional)"), required=False)
