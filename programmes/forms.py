"""The programme pages' forms: they check shapes; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from cashback.card_guard import VALIDATED_PHONE_FIELDS, contains_card_number
from cashback.forms import GuardedForm
from programmes.models import BusinessCustomer, Contract, Programme, Region
from programmes.sales_files import MAX_FILE_BYTES
from wallet.errors import InvalidLedgerRequestError
from wallet.money import decimal_string_to_minor


class CustomerForm(GuardedForm):
    phone_fields = VALIDATED_PHONE_FIELDS  # the service normalises it and says if it is not dialable

    name = forms.CharField(label="Business name", max_length=150)
    kind = forms.ChoiceField(label="Kind of business", choices=BusinessCustomer.Kind.choices)
    code = forms.CharField(
        label="Customer number",
        max_length=30,
        help_text="Your company's number for this customer, as in the sales data.",
    )
    region = forms.ModelChoiceField(queryset=Region.objects.none(), empty_label=None)
    contact_name = forms.CharField(label="Owner or contact person", max_length=150)
    phone = forms.CharField(
        label="Mobile number",
        max_length=20,
        help_text="Rewards go to the wallet of this number.",
        widget=forms.TelInput,
    )

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ModelChoiceField)
        region_field.queryset = regions


MAX_BUDGET_MINOR = 10**15  # far below a BIGINT, far above any programme


class DateInput(forms.DateInput):
    input_type = "date"


class ContractForm(GuardedForm):
    customer = forms.ModelChoiceField(queryset=BusinessCustomer.objects.none())
    programme = forms.ModelChoiceField(queryset=Programme.objects.none(), empty_label=None)
    contract_type = forms.ChoiceField(label="Contract type", choices=Contract.Type.choices)
    starts_on = forms.DateField(label="Starts", widget=DateInput)
    expires_on = forms.DateField(label="Expires", widget=DateInput)

    def __init__(self, *args: Any, customers: Any, programmes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (("customer", customers), ("programme", programmes)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset


class RejectForm(GuardedForm):
    reason = forms.CharField(label="Why not", max_length=300, widget=forms.TextInput)


class SalesUploadForm(GuardedForm):
    file = forms.FileField(label="Sales file (CSV)")

    def _fields_holding_card_numbers(self) -> list[str]:
        """The guard reads submitted values; an uploaded file's are in its content, so a sales file
        holding a card number anywhere is refused whole (no row of it is shown back)."""
        faulty = super()._fields_holding_card_numbers()
        upload = self.files.get(self.add_prefix("file"))
        submitted = self.data.get(self.add_prefix("file"))
        in_file = upload is not None and (upload.size or 0) <= MAX_FILE_BYTES and _file_holds_card_number(upload)
        if in_file or (isinstance(submitted, str) and contains_card_number(submitted)):
            faulty.append("file")
        return faulty

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        return upload


def _file_holds_card_number(upload: Any) -> bool:
    content = upload.read()
    upload.seek(0)
    return contains_card_number(content.decode("utf-8", errors="replace"))


class BudgetForm(GuardedForm):
    amount = forms.CharField(label="Budget", max_length=20, help_text="In the programme's currency, e.g. 250000.00")

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        text = self.cleaned_data["amount"].strip()
        try:
            amount = decimal_string_to_minor(text, self.currency)
        except (ValueError, InvalidLedgerRequestError) as error:
            raise forms.ValidationError("Enter an amount like 250000.00.") from error
        if amount < 0:
            raise forms.ValidationError("A budget cannot be negative.")
        if amount > MAX_BUDGET_MINOR:
            raise forms.ValidationError("That budget is larger than the platform holds.")
        return amount
