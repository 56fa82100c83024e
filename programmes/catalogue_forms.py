"""Forms of the catalogue pages: they read shapes; the services decide what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import Tier
from cashback.card_guard import contains_card_number
from cashback.forms import GuardedForm
from programmes.catalogue_models import CodeSource, PriceKind, RewardKind, Segment
from programmes.models import Programme
from programmes.vouchers import MAX_FILE_BYTES, MAX_GENERATED_PER_BATCH
from wallet.errors import InvalidLedgerRequestError
from wallet.money import decimal_string_to_minor


class DateInput(forms.DateInput):
    input_type = "date"


class FileFieldGuard(GuardedForm):
    """The card-number guard reads submitted values; a file field's value is its upload, so a string sent
    in its place is checked here, and a code file's content too (the whole file is refused, as sales
    files are: no line of it is shown back)."""

    file_fields: tuple[str, ...] = ()
    content_checked: tuple[str, ...] = ()

    def _fields_holding_card_numbers(self) -> list[str]:
        faulty = super()._fields_holding_card_numbers()
        for name in self.file_fields:
            submitted = self.data.get(self.add_prefix(name))
            upload = self.files.get(self.add_prefix(name))
            in_file = (
                name in self.content_checked
                and upload is not None
                and (upload.size or 0) <= MAX_FILE_BYTES
                and _file_holds_card_number(upload)
            )
            if in_file or (isinstance(submitted, str) and contains_card_number(submitted)):
                faulty.append(name)
        return faulty


def _file_holds_card_number(upload: Any) -> bool:
    content = upload.read()
    upload.seek(0)
    return contains_card_number(content.decode("utf-8", errors="replace"))


class ItemForm(FileFieldGuard):
    file_fields = ("image",)

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("What it is"), choices=RewardKind.choices)
    description = forms.CharField(label=_("Description"), required=False, max_length=2000, widget=forms.Textarea)
    price_kind = forms.ChoiceField(label=_("Priced in"), choices=PriceKind.choices)
    price = forms.CharField(
        label=_("Price"), max_length=20, help_text=_("Whole points, or an amount of cashback such as 125.00.")
    )
    stock = forms.IntegerField(label=_("Stock"), min_value=0, max_value=1_000_000)
    valid_from = forms.DateField(label=_("Redeemable from"), widget=DateInput)
    valid_until = forms.DateField(label=_("Redeemable until"), widget=DateInput)
    code_source = forms.ChoiceField(
        label=_("Voucher codes"),
        choices=CodeSource.choices,
        help_text=_("Generated: the platform makes a code when none uploaded is waiting."),
    )
    segment = forms.ChoiceField(label=_("Who may redeem it"), choices=Segment.choices)
    programme = forms.ModelChoiceField(
        label=_("Only for the customers of the programme"), queryset=Programme.objects.none(), required=False
    )
    min_tier = forms.ModelChoiceField(label=_("Only from the tier"), queryset=Tier.objects.none(), required=False)
    image = forms.ImageField(label=_("Picture"), required=False, help_text=_("Optional; at most 2 MB."))
    is_active = forms.BooleanField(label=_("Offered in the catalogue"), required=False, initial=True)

    def __init__(self, *args: Any, programmes: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        programme_field = self.fields["programme"]
        tier_field = self.fields["min_tier"]
        assert isinstance(programme_field, forms.ModelChoiceField) and isinstance(tier_field, forms.ModelChoiceField)
        programme_field.queryset = programmes
        tier_field.queryset = Tier.objects.order_by("rank")

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if image and image.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The picture is larger than 2 MB."))
        return image

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        text = (cleaned.get("price") or "").strip()
        if not text:
            return cleaned
        try:
            if cleaned.get("price_kind") == PriceKind.POINTS:
                if not text.isdigit():
                    raise ValueError(text)
                cleaned["price"] = int(text)
            else:
                cleaned["price"] = decimal_string_to_minor(text, self.currency)
        except (ValueError, InvalidLedgerRequestError):
            self.add_error("price", _("Enter whole points such as 500, or an amount such as 125.00."))
        return cleaned


class RedeemForm(GuardedForm):
    """The confirmation: its key, made when the page was shown, makes a second click the same redemption."""

    request_key = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)


class VoucherFileForm(FileFieldGuard):
    file_fields = ("file",)
    content_checked = ("file",)

    file = forms.FileField(label=_("Codes (CSV, one code per line)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload


class GenerateForm(GuardedForm):
    count = forms.IntegerField(label=_("How many codes"), min_value=1, max_value=MAX_GENERATED_PER_BATCH)


class ClaimCodeForm(GuardedForm):
    code = forms.RegexField(
        label=_("Code from the SMS"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("The code is six digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
