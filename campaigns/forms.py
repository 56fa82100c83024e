"""Forms of the offer pages. Amounts are typed in kroner/euros and handed to services in minor units.

Validation happens here, at the door (``offer_field_problems`` is shared with the services so
the rules live in one place); the services assume valid input and save atomically.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Challenge, Offer, OfferBasis, OfferStatus, Tier
from campaigns.rules import DAY_NAMES, Audience, ChallengeTarget, RewardType
from campaigns.services import offer_field_problems
from cashback.forms import GuardedForm
from merchants.models import Location, Merchant
from wallet.models import Currency
from wallet.money import currency_exponent

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # the stubs' str-or-lazy-string type

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
MONEY_FIELDS = {
    # form field → model field (minor units)
    "fixed_amount": "fixed_amount_minor",
    "min_spend": "min_spend_minor",
    "max_reward_per_purchase": "max_reward_per_purchase_minor",
    "budget_total": "budget_total_minor",
}
AUDIENCE_LABELS = {
    Audience.EVERYONE: "Everyone",
    Audience.NEW_CUSTOMERS: "New customers of this shop",
    Audience.RETURNING_CUSTOMERS: "Returning customers",
    Audience.TIER: "Loyalty tier or higher",
    Audience.SEGMENT: "A segment by profile",
}
REWARD_LABELS = {
    RewardType.PERCENT: "Percent of the purchase",
    RewardType.FIXED: "Fixed amount per purchase",
    RewardType.CHARITY: "Charity reward (goes to a charity)",
}
GENDER_CHOICES = [("female", "Female"), ("male", "Male"), ("other", "Other")]
LANGUAGE_CHOICES = [("en", "English"), ("nb", "Norwegian"), ("sv", "Swedish"), ("da", "Danish")]


def to_minor(amount: Decimal | None, currency: str) -> int | None:
    if amount is None:
        return None
    return int((amount * (10 ** currency_exponent(currency))).to_integral_value())


def from_minor(amount: int | None, currency: str) -> Decimal | None:
    if amount is None:
        return None
    return Decimal(amount).scaleb(-currency_exponent(currency))


def money_field(label: "StrOrPromise", *, required: bool = False, help_text: "StrOrPromise" = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


class OfferForm(GuardedForm):
    """Create or edit an offer. ``version`` carries the optimistic lock from the page load to the save."""

    title = forms.CharField(max_length=120, help_text=_("What customers see, e.g. “10 % back on coffee”."))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reward_type = forms.ChoiceField(
        label=_("Reward"), choices=list(REWARD_LABELS.items()), widget=forms.RadioSelect, initial=RewardType.PERCENT
    )
    basis = forms.ChoiceField(
        label=_("Cashback on"),
        choices=OfferBasis.choices,
        initial=OfferBasis.PURCHASE,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Each purchase, or a customer's total spend in a calendar month (credited after the month)."),
    )
    percent = forms.DecimalField(
        label=_("Percent"),
        required=False,
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("0 to 100; for percent and charity rewards."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100", "inputmode": "decimal"}),
    )
    fixed_amount = money_field(
        _("Fixed amount"), help_text=_("For fixed-value rewards (a charity reward may add one).")
    )
    charity_ref = forms.CharField(
        label=_("Charity"), max_length=64, required=False, help_text=_("Optional until charities are listed.")
    )
    currency = forms.ChoiceField(choices=Currency.choices)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeLocalInput(), input_formats=[DATETIME_FORMAT])
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeLocalInput(), input_formats=[DATETIME_FORMAT])
    min_spend = money_field(_("Minimum spend"), help_text=_("Leave at 0 for any amount."))
    max_reward_per_purchase = money_field(_("Maximum reward per purchase"), help_text=_("Empty: no maximum."))
    max_rewards_per_customer = forms.IntegerField(
        label=_("Maximum rewards per customer"), required=False, min_value=1, help_text=_("Empty: no maximum.")
    )
    budget_total = money_field(
        _("Total budget"), help_text=_("The offer stops earning when it is spent. Empty: unlimited.")
    )
    days_of_week = forms.TypedMultipleChoiceField(
        label=_("Days"),
        required=False,
        coerce=int,
        choices=list(enumerate(DAY_NAMES)),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every day. In each shop's own time zone."),
    )
    hour_from = forms.IntegerField(label=_("From hour"), required=False, min_value=0, max_value=24)
    hour_to = forms.IntegerField(
        label=_("Until hour"),
        required=False,
        min_value=0,
        max_value=24,
        help_text=_("E.g. 22 to 2 runs past midnight."),
    )
    locations: "forms.ModelMultipleChoiceField[Location]" = forms.ModelMultipleChoiceField(
        label=_("Shops"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: all your shops."),
    )
    audience = forms.ChoiceField(choices=list(AUDIENCE_LABELS.items()), initial=Audience.EVERYONE)
    min_tier = forms.ModelChoiceField(
        label=_("Lowest tier"),
        queryset=Tier.objects.order_by("rank"),
        required=False,
        help_text=_("For the tier audience."),
    )
    segment_gender = forms.MultipleChoiceField(
        label=_("Segment: gender"), required=False, choices=GENDER_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    segment_city = forms.CharField(
        label=_("Segment: cities"), required=False, max_length=300, help_text=_("Comma-separated, e.g. Oslo, Bergen.")
    )
    segment_language = forms.MultipleChoiceField(
        label=_("Segment: language"), required=False, choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    segment_birth_year_from = forms.IntegerField(
        label=_("Segment: born from"), required=False, min_value=1900, max_value=2100
    )
    segment_birth_year_to = forms.IntegerField(
        label=_("Segment: born until"), required=False, min_value=1900, max_value=2100
    )
    return_period_days = forms.IntegerField(
        label=_("Return period (days)"),
        min_value=0,
        max_value=365,
        initial=30,
        help_text=_("Cashback stays pending this long, while the purchase can be returned."),
    )
    stackable = forms.BooleanField(
        label=_("Combines with other offers"),
        required=False,
        help_text=_("Otherwise only the best offer at your shop applies to a purchase."),
    )
    auto_payout = forms.BooleanField(
        label="Pay the cashback out automatically at each month end",
        required=False,
        help_text="Business cashback on Stripe billing only: each customer's available cashback goes to their "
        "connected bank account without them asking, and they get a receipt.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        cast(forms.ModelMultipleChoiceField, self.fields["locations"]).queryset = merchant.locations.order_by(
            "name", "id"
        )
        self.fields["currency"].initial = merchant.currency

    @classmethod
    def initial_from(cls, offer: Offer) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(offer, name)
            for name in (
                "title",
                "description",
                "reward_type",
                "percent",
                "charity_ref",
                "currency",
                "max_rewards_per_customer",
                "days_of_week",
                "hour_from",
                "hour_to",
                "audience",
                "min_tier",
                "return_period_days",
                "stackable",
                "basis",
                "auto_payout",
                "version",
            )
        }
        initial["starts_at"] = timezone.localtime(offer.starts_at).strftime(DATETIME_FORMAT)
        initial["ends_at"] = timezone.localtime(offer.ends_at).strftime(DATETIME_FORMAT)
        for form_name, model_name in MONEY_FIELDS.items():
            initial[form_name] = from_minor(getattr(offer, model_name), offer.currency)
        initial["locations"] = [location.pk for location in offer.locations.all()]
        segment = offer.segment or {}
        initial["segment_gender"] = segment.get("gender", [])
        initial["segment_city"] = ", ".join(segment.get("city", []))
        initial["segment_language"] = segment.get("language", [])
        initial["segment_birth_year_from"] = segment.get("birth_year_from")
        initial["segment_birth_year_to"] = segment.get("birth_year_to")
        return initial

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        values = self.service_values()
        for field, messages in offer_field_problems(values).items():
            name = {v: k for k, v in MONEY_FIELDS.items()}.get(field, field)
            if name == "segment":
                name = "segment_city"
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        year_from, year_to = cleaned.get("segment_birth_year_from"), cleaned.get("segment_birth_year_to")
        if year_from and year_to and year_from > year_to:
            self.add_error("segment_birth_year_to", _("“Born until” must not be before “born from”."))
        return cleaned

    def service_values(self) -> dict[str, Any]:
        """The cleaned data as the services' field values (minor units, segment as a dict)."""
        data = self.cleaned_data
        currency = data.get("currency") or self.merchant.currency
        values: dict[str, Any] = {
            name: data.get(name)
            for name in (
                "title",
                "description",
                "reward_type",
                "charity_ref",
                "currency",
                "starts_at",
                "ends_at",
                "max_rewards_per_customer",
                "hour_from",
                "hour_to",
                "audience",
                "min_tier",
                "return_period_days",
                "stackable",
                "basis",
                "auto_payout",
            )
        }
        values["basis"] = values["basis"] or OfferBasis.PURCHASE
        values["auto_payout"] = bool(values["auto_payout"])
        values["percent"] = data.get("percent") or Decimal(0)
        values["days_of_week"] = sorted(data.get("days_of_week") or [])
        for form_name, model_name in MONEY_FIELDS.items():
            values[model_name] = to_minor(data.get(form_name), currency)
        values["fixed_amount_minor"] = values["fixed_amount_minor"] or 0
        values["min_spend_minor"] = values["min_spend_minor"] or 0
        values["description"] = values["description"] or ""
        values["charity_ref"] = values["charity_ref"] or ""
        values["return_period_days"] = values["return_period_days"] if values["return_period_days"] is not None else 30
        segment: dict[str, Any] = {}
        if data.get("segment_gender"):
            segment["gender"] = list(data["segment_gender"])
        cities = [city.strip() for city in (data.get("segment_city") or "").split(",") if city.strip()]
        if cities:
            segment["city"] = cities
        if data.get("segment_language"):
            segment["language"] = list(data["segment_language"])
        for bound in ("birth_year_from", "birth_year_to"):
            if data.get(f"segment_{bound}") is not None:
                segment[bound] = data[f"segment_{bound}"]
        values["segment"] = segment if values["audience"] == Audience.SEGMENT else {}
        if values["audience"] != Audience.TIER:
            values["min_tier"] = None
        return values


class OfferFilterForm(GuardedForm):
    status = forms.ChoiceField(required=False, choices=[("", "All statuses"), *OfferStatus.choices], label=_("Status"))


class ChallengeForm(GuardedForm):
    """A challenge of one of the merchant's offers. The offer is required: no standalone challenges."""

    offer: "forms.ModelChoiceField[Offer]" = forms.ModelChoiceField(
        queryset=None, empty_label=_("Choose an offer"), help_text=_("The challenge runs within its period.")
    )
    title = forms.CharField(max_length=120)
    target_type = forms.ChoiceField(
        label=_("Target"),
        choices=[
            (ChallengeTarget.REVENUE.value, "Total spend"),
            (ChallengeTarget.PURCHASE_COUNT.value, "Number of purchases"),
        ],
        widget=forms.RadioSelect,
        initial=ChallengeTarget.REVENUE,
    )
    target_value = forms.DecimalField(
        label=_("Target value"),
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        help_text=_("An amount for total spend, a whole number for purchases."),
    )
    bonus = money_field(_("Bonus"), required=True, help_text=_("Given once, when the target is crossed."))

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        offers = cast(forms.ModelChoiceField, self.fields["offer"])
        offers.queryset = merchant.offers.exclude(status=OfferStatus.ENDED).order_by("-created_at")

    @classmethod
    def initial_from(cls, challenge: Challenge) -> dict[str, Any]:
        currency = challenge.offer.currency
        value = (
            from_minor(challenge.target_value, currency)
            if challenge.target_type == ChallengeTarget.REVENUE
            else challenge.target_value
        )
        return {
            "offer": challenge.offer_id,
            "title": challenge.title,
            "target_type": challenge.target_type,
            "target_value": value,
            "bonus": from_minor(challenge.bonus_minor, currency),
        }

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        target = cleaned.get("target_value")
        counting = cleaned.get("target_type") == ChallengeTarget.PURCHASE_COUNT
        if counting and target is not None and target != target.to_integral_value():
            self.add_error("target_value", _("A number of purchases is a whole number."))
        if cleaned.get("bonus") is not None and cleaned["bonus"] <= 0:
            self.add_error("bonus", _("The bonus must be above 0."))
        return cleaned

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        currency = data["offer"].currency
        target = data["target_value"]
        return {
            "title": data["title"],
            "target_type": data["target_type"],
            "target_value": to_minor(target, currency)
            if data["target_type"] == ChallengeTarget.REVENUE
            else int(target),
            "bonus_minor": to_minor(data["bonus"], currency),
        }


class LineItemRuleForm(GuardedForm):
    scope = forms.ChoiceField(choices=[("category", "Category"), ("product", "Product (SKU)")])
    key = forms.CharField(label=_("Category or SKU"), max_length=100)
    kind = forms.ChoiceField(
        label=_("Reward"), choices=[("percent", "Percent of the line"), ("fixed", "Fixed amount per unit")]
    )
    percent = forms.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    fixed = money_field(_("Fixed amount per unit"))

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("kind") == "percent" and not cleaned.get("percent"):
            self.add_error("percent", _("Give the percentage (0 to 100)."))
        if cleaned.get("kind") == "fixed" and not cleaned.get("fixed"):
            self.add_error("fixed", _("Give the amount per unit."))
        return cleaned

    def service_values(self, currency: str) -> dict[str, Any]:
        data = self.cleaned_data
        fixed = data.get("fixed") if data["kind"] == "fixed" else None
        return {
            "scope": data["scope"],
            "key": data["key"].strip(),
            "kind": data["kind"],
            "percent": data.get("percent") or Decimal(0) if data["kind"] == "percent" else Decimal(0),
            "fixed_minor": to_minor(fixed, currency) or 0,
        }


class ReviewForm(GuardedForm):
    """Staff decision on an offer in review; a rejection needs a reason the merchant will read."""

    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Required when rejecting.")
    )
