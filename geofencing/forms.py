"""The wallet's "offers near me" search: where (the browser's position, a place typed, or the profile's
city), how far and which offers."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cashback.forms import GuardedForm
from geofencing.selectors import DEFAULT_RADIUS_KM, MAX_RADIUS_KM
from merchants.categories import shop_category_choices

RADIUS_CHOICES_KM = (1, 2, 5, 10, 25, MAX_RADIUS_KM)


class NearbyForm(GuardedForm):
    place = forms.CharField(
        required=False,
        max_length=100,
        label=_("Near"),
        help_text=_("A town or a postcode."),
        widget=forms.TextInput(attrs={"placeholder": "Town or postcode", "autocomplete": "address-level2"}),
    )
    radius_km = forms.TypedChoiceField(
        choices=[(km, f"{km} km") for km in RADIUS_CHOICES_KM],
        coerce=int,
        required=False,
        empty_value=None,
        initial=DEFAULT_RADIUS_KM,
        label=_("Within"),
    )
    category = forms.ChoiceField(choices=[("", "All shops"), *shop_category_choices()], required=False)
    q = forms.CharField(required=False, max_length=100, label=_("Shop or offer"))
    # Filled in by the page's script from the browser's position, when the person allows it.
    lat = forms.DecimalField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.DecimalField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    # 20 offers a page, at most 1 000 deep (as the API: each page reads from the nearest shop on).
    page = forms.IntegerField(required=False, min_value=1, max_value=50, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if (cleaned.get("lat") is None) != (cleaned.get("lng") is None):
            raise forms.ValidationError(_("The position came without one of its coordinates; please try again."))
        return cleaned

    def position(self) -> tuple[Decimal, Decimal] | None:
        lat, lng = self.cleaned_data.get("lat"), self.cleaned_data.get("lng")
        if lat is None or lng is None:
            return None
        six = Decimal("0.000001")
        return lat.quantize(six), lng.quantize(six)

    def next_radius_km(self) -> int | None:
        """The next larger radius to suggest when nothing is near, or None at the largest."""
        radius = self.cleaned_data.get("radius_km") or DEFAULT_RADIUS_KM
        return next((km for km in RADIUS_CHOICES_KM if km > radius), None)
