"""The search form of the public shop list (a GET form: every search is a link people can share)."""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.rules import RewardType
from campaigns.shop_selectors import ShopFilters
from cashback.forms import GuardedForm
from merchants.categories import shop_category_choices

OFFER_TYPE_CHOICES = [
    ("", "Any kind of offer"),
    (RewardType.PERCENT.value, "A percent back"),
    (RewardType.FIXED.value, "A fixed amount back"),
    (RewardType.CHARITY.value, "Gives to charity"),
]


class ShopSearchForm(GuardedForm):
    q = forms.CharField(label=_("Shop or city"), max_length=100, required=False, strip=True)
    city = forms.ChoiceField(label=_("City"), required=False)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", "All categories"), *shop_category_choices()],
        error_messages={"invalid_choice": "There is no category “%(value)s”. Choose one from the list."},
    )
    offer_type = forms.ChoiceField(
        label=_("Offer"),
        required=False,
        choices=OFFER_TYPE_CHOICES,
        error_messages={"invalid_choice": "There is no kind of offer “%(value)s”. Choose one from the list."},
    )
    charity = forms.BooleanField(label=_("Only shops with a charity offer"), required=False)

    def __init__(self, *args: Any, cities: Sequence[str] = (), **kwargs: Any) -> None:
        """``cities``: the ones a visitor may pick (those with a showing shop); the view passes them."""
        super().__init__(*args, **kwargs)
        city_field = self.fields["city"]
        assert isinstance(city_field, forms.ChoiceField)
        city_field.choices = [("", "All cities"), *((city, city) for city in cities)]
        city_field.error_messages["invalid_choice"] = "We have no partner shops in “%(value)s” yet."

    def filters(self) -> ShopFilters:
        """The checked search; call after ``is_valid()`` returned True."""
        data = self.cleaned_data
        return ShopFilters(
            q=data["q"],
            city=data["city"],
            category=data["category"],
            offer_type=data["offer_type"],
            charity_only=data["charity"],
        )
