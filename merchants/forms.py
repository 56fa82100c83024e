"""Forms of the partner sign-up and the merchant portal. They check the shape of the input; the
services decide the rest, and their domain errors land on the fields through ``form_error_from``."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cashback.context_processors import offered_languages
from cashback.errors import DomainError
from cashback.forms import GuardedForm
from merchants.models import Country, Location, Membership
from merchants.validators import (
    WEEKDAYS,
    validate_category_code,
    validate_currency,
    validate_opening_hours,
    validate_organisation_number,
    validate_time_zone,
)
from merchants.vat_numbers import validate_vat_number
from wallet.models import Currency

COMMON_TIME_ZONES = ("Europe/Oslo", "Europe/Stockholm", "Europe/Copenhagen", "Europe/Helsinki", "Arctic/Longyearbyen")


def _as_validation_error(error: DomainError, field: str) -> ValidationError:
    return ValidationError(error.fields.get(field, [error.message]), code=error.code)


class ApplicationForm(GuardedForm):
    legal_name = forms.CharField(max_length=200, help_text=_("As registered, e.g. “Fjord Coffee AS”."))
    display_name = forms.CharField(max_length=100, help_text=_("The name customers see in the app."))
    country = forms.ChoiceField(choices=[("", "Choose a country"), *Country.choices])
    organisation_number = forms.CharField(
        max_length=20,
        help_text=_(
            "Norway: 9 digits · Sweden: 10 digits · Denmark: 8-digit CVR · Finland: Y-tunnus. Spaces are fine."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    currency = forms.ChoiceField(
        choices=[("", "The country's currency"), *Currency.choices],
        required=False,
        help_text=_("Your cashback is invoiced in this currency: the country's own currency or euro."),
    )
    category_code = forms.CharField(
        label=_("Category code (MCC)"),
        max_length=4,
        help_text=_("Four digits from your card terminal agreement, e.g. 5812 restaurants, 5411 grocery stores."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]{4}", "autocomplete": "off"}),
    )
    contact_name = forms.CharField(max_length=150, label=_("Contact person"))
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(max_length=20, required=False, label=_("Contact phone"))
    billing_email = forms.EmailField(
        label=_("Billing e-mail"), required=False, help_text=_("Monthly invoices go here; empty: the contact e-mail.")
    )
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=30,
        required=False,
        help_text=_(
            "Norway: organisation number and MVA (123456789MVA); Sweden, Denmark, Finland: SE…01, DK…, FI…. "
            "Empty if you are not VAT-registered."
        ),
    )

    def clean_category_code(self) -> str:
        try:
            return validate_category_code(self.cleaned_data["category_code"])
        except DomainError as error:
            raise _as_validation_error(error, "category_code") from error

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        country, number = cleaned.get("country"), cleaned.get("organisation_number")
        if country and number:
            try:
                cleaned["organisation_number"] = validate_organisation_number(number, country=country)
            except DomainError as error:
                self.add_error("organisation_number", _as_validation_error(error, "organisation_number"))
            else:
                try:
                    cleaned["vat_number"] = validate_vat_number(
                        cleaned.get("vat_number", ""),
                        country=country,
                        organisation_number=cleaned["organisation_number"],
                    )
                except DomainError as error:
                    self.add_error("vat_number", _as_validation_error(error, "vat_number"))
        if country and not self.has_error("currency"):
            try:
                cleaned["currency"] = validate_currency(cleaned.get("currency", ""), country=country)
            except DomainError as error:
                self.add_error("currency", _as_validation_error(error, "currency"))
        return cleaned


class MerchantSettingsForm(GuardedForm):
    display_name = forms.CharField(max_length=100, help_text=_("The name customers see in the app."))
    contact_name = forms.CharField(max_length=150, label=_("Contact person"))
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(max_length=20, required=False, label=_("Contact phone"))
    language = forms.ChoiceField(
        label=_("Language of e-mails"),
        required=False,
        help_text=_("The language we write to you in: review decisions and team invitations."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)  # declared above
        language.choices = [("", _("The platform's default")), *offered_languages()]


class InvitationForm(GuardedForm):
    email = forms.EmailField(label=_("E-mail address"), help_text=_("They must log in with this address to accept."))
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        initial=Membership.Role.ANALYST,
        help_text=_("Owners manage the team; managers edit shops and offers; analysts only look."),
    )


class RoleForm(GuardedForm):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class LocationFilterForm(GuardedForm):
    map_position = forms.ChoiceField(
        label=_("Map position"),
        required=False,
        choices=[("", _("All shops")), ("missing", _("No map position")), ("placed", _("On the map"))],
    )


class LocationForm(GuardedForm):
    """A shop: address, map position, time zone, opening hours per weekday, card-network ids."""

    name = forms.CharField(max_length=120, help_text=_("E.g. “Grünerløkka” or “Oslo S”."))
    street = forms.CharField(max_length=200, label=_("Street address"))
    postcode = forms.CharField(max_length=10)
    city = forms.CharField(max_length=100)
    country = forms.ChoiceField(choices=Country.choices, initial=Country.NORWAY)
    latitude = forms.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.000001", "data-map-latitude": ""}),
    )
    longitude = forms.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.000001", "data-map-longitude": ""}),
    )
    time_zone = forms.CharField(
        max_length=64,
        initial="Europe/Oslo",
        help_text=_("IANA name, e.g. Europe/Oslo."),
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    network_merchant_id = forms.CharField(max_length=64, required=False, label=_("Card-network merchant id"))
    network_store_id = forms.CharField(max_length=64, required=False, label=_("Card-network store id"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, label in WEEKDAYS:
            self.fields[f"{day}_open"] = forms.TimeField(
                label=f"{label} opens", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )
            self.fields[f"{day}_close"] = forms.TimeField(
                label=f"{label} closes", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )
            self.fields[f"{day}_closed"] = forms.BooleanField(label=f"Closed on {label}", required=False)

    @classmethod
    def initial_from(cls, location: Location) -> dict[str, Any]:
        initial = {
            field: getattr(location, field)
            for field in (
                "name",
                "street",
                "postcode",
                "city",
                "country",
                "latitude",
                "longitude",
                "time_zone",
                "network_merchant_id",
                "network_store_id",
            )
        }
        for day, hours in (location.opening_hours or {}).items():
            if hours.get("closed"):
                initial[f"{day}_closed"] = True
            else:
                initial[f"{day}_open"], initial[f"{day}_close"] = hours.get("open"), hours.get("close")
        return initial

    @property
    def address_fields(self) -> list:
        return [self[name] for name in ("street", "postcode", "city", "country")]

    @property
    def network_fields(self) -> list:
        return [self["network_merchant_id"], self["network_store_id"]]

    @property
    def opening_hour_rows(self) -> list[tuple[str, Any, Any, Any]]:
        return [(label, self[f"{day}_open"], self[f"{day}_close"], self[f"{day}_closed"]) for day, label in WEEKDAYS]

    def clean_time_zone(self) -> str:
        try:
            return validate_time_zone(self.cleaned_data["time_zone"])
        except DomainError as error:
            raise _as_validation_error(error, "time_zone") from error

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if (
            (latitude is None) != (longitude is None)
            and not self.has_error("latitude")
            and not self.has_error("longitude")
        ):
            missing = "longitude" if longitude is None else "latitude"
            self.add_error(missing, _("Give both latitude and longitude, or leave both empty."))
        hours: dict[str, dict] = {}
        for day, label in WEEKDAYS:
            opens, closes, closed = (
                cleaned.get(f"{day}_open"),
                cleaned.get(f"{day}_close"),
                cleaned.get(f"{day}_closed"),
            )
            if self.has_error(f"{day}_open") or self.has_error(f"{day}_close"):
                continue
            if closed:
                if opens or closes:
                    self.add_error(
                        f"{day}_closed", _("%(label)s: either closed or opening times, not both.") % {"label": label}
                    )
                    continue
                hours[day] = {"closed": True}
            elif opens or closes:
                if not (opens and closes):
                    self.add_error(
                        f"{day}_close" if opens else f"{day}_open", _("%(label)s: give both times.") % {"label": label}
                    )
                    continue
                hours[day] = {"open": opens.strftime("%H:%M"), "close": closes.strftime("%H:%M")}
        try:
            cleaned["opening_hours"] = validate_opening_hours(hours)
        except DomainError as error:
            for day, messages in error.fields.items():
                self.add_error(f"{day}_close" if f"{day}_close" in self.fields else None, messages)
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = (
            "name",
            "street",
            "postcode",
            "city",
            "country",
            "time_zone",
            "opening_hours",
            "network_merchant_id",
            "network_store_id",
            "latitude",
            "longitude",
        )
        return {name: data.get(name) for name in names}


class ReasonForm(GuardedForm):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The merchant sees this."),
    )


class NoteForm(GuardedForm):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class ApiKeyForm(GuardedForm):
    name = forms.CharField(
        max_length=100,
        help_text=_("Which system uses it, e.g. “Web shop” or “Checkout at Storgata”. Only you see this."),
    )
