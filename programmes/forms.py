"""The programme pages' forms: they check shapes; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cashback.card_guard import VALIDATED_PHONE_FIELDS, contains_card_number
from cashback.forms import GuardedForm
from programmes.catalogue_models import RewardItem
from programmes.models import Brand, BusinessCustomer, Contract, FieldRole, Product, Programme, Region, TierRewardKind
from programmes.sales_files import MAX_FILE_BYTES
from programmes.services import TierSpec
from wallet.errors import InvalidLedgerRequestError
from wallet.money import decimal_string_to_minor


class CustomerForm(GuardedForm):
    phone_fields = VALIDATED_PHONE_FIELDS  # the service normalises it and says if it is not dialable

    name = forms.CharField(label=_("Business name"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind of business"), choices=BusinessCustomer.Kind.choices)
    code = forms.CharField(
        label=_("Customer number"),
        max_length=30,
        help_text=_("Your company's number for this customer, as in the sales data."),
    )
    region = forms.ModelChoiceField(queryset=Region.objects.none(), empty_label=None)
    contact_name = forms.CharField(label=_("Owner or contact person"), max_length=150)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=_("Rewards go to the wallet of this number."),
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
    contract_type = forms.ChoiceField(label=_("Contract type"), choices=Contract.Type.choices)
    starts_on = forms.DateField(label=_("Starts"), widget=DateInput)
    expires_on = forms.DateField(label=_("Expires"), widget=DateInput)

    def __init__(self, *args: Any, customers: Any, programmes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (("customer", customers), ("programme", programmes)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset


class RejectForm(GuardedForm):
    reason = forms.CharField(label=_("Why not"), max_length=300, widget=forms.TextInput)


class SalesUploadForm(GuardedForm):
    file = forms.FileField(label=_("Sales file (CSV)"))

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
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.") % {"size": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload


def _file_holds_card_number(upload: Any) -> bool:
    content = upload.read()
    upload.seek(0)
    return contains_card_number(content.decode("utf-8", errors="replace"))


class BudgetForm(GuardedForm):
    amount = forms.CharField(
        label=_("Budget"), max_length=20, help_text=_("In the programme's currency, e.g. 250000.00")
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        text = self.cleaned_data["amount"].strip()
        try:
            amount = decimal_string_to_minor(text, self.currency)
        except (ValueError, InvalidLedgerRequestError) as error:
            raise forms.ValidationError(_("Enter an amount like 250000.00.")) from error
        if amount < 0:
            raise forms.ValidationError(_("A budget cannot be negative."))
        if amount > MAX_BUDGET_MINOR:
            raise forms.ValidationError(_("That budget is larger than the platform holds."))
        return amount


TIER_ROWS = 3


def _minor_or_none(text: str, currency: str) -> int | None:
    """A decimal amount typed by a person → minor units; blank → None; not a positive amount → ValueError."""
    text = text.strip()
    if not text:
        return None
    amount = decimal_string_to_minor(text, currency)
    if amount < 0 or amount > MAX_BUDGET_MINOR:
        raise ValueError(text)
    return amount


class ProgrammeForm(GuardedForm):
    """A programme package: up to three targets with a reward each, and a budget per region. The service
    decides what is valid (a target without a reward, dates, …); the form only reads numbers."""

    name = forms.CharField(max_length=150)
    target_kind = forms.ChoiceField(label=_("Target"), choices=Programme.TargetKind.choices)
    starts_on = forms.DateField(label=_("First day"), widget=DateInput)
    ends_on = forms.DateField(label=_("Last day"), widget=DateInput)
    brands = forms.ModelMultipleChoiceField(
        queryset=Brand.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Sales of these brands count."),
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("And sales of these products (of any brand). Choose brands, products or both."),
    )

    def __init__(
        self,
        *args: Any,
        brands: Any,
        regions: Any,
        currency: str,
        reward_items: Any = None,
        products: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.regions = list(regions)
        items = reward_items if reward_items is not None else RewardItem.objects.none()
        brand_field = self.fields["brands"]
        assert isinstance(brand_field, forms.ModelMultipleChoiceField)
        brand_field.queryset = brands
        product_field = self.fields["products"]
        assert isinstance(product_field, forms.ModelMultipleChoiceField)
        product_field.queryset = products if products is not None else Product.objects.none()
        for index in range(1, TIER_ROWS + 1):
            self.fields[f"threshold_{index}"] = forms.IntegerField(
                label=_("Target %(index)s") % {"index": index},
                required=index == 1,
                min_value=1,
                max_value=MAX_BUDGET_MINOR,
            )
            self.fields[f"reward_{index}"] = forms.CharField(
                label=_("Reward %(index)s (%(currency)s)") % {"index": index, "currency": currency},
                required=False,
                max_length=20,
            )
            # Points or an e-voucher instead of cash; the reward above is then what it costs the budget.
            self.fields[f"reward_kind_{index}"] = forms.ChoiceField(
                label=_("Target %(index)s: paid as") % {"index": index},
                choices=TierRewardKind.choices,
                initial=TierRewardKind.CASH,
                required=False,
            )
            self.fields[f"reward_points_{index}"] = forms.IntegerField(
                label=_("Target %(index)s: points") % {"index": index},
                required=False,
                min_value=1,
                max_value=10_000_000,
            )
            self.fields[f"reward_item_{index}"] = forms.ModelChoiceField(
                label=_("Target %(index)s: e-voucher of") % {"index": index}, queryset=items, required=False
            )
        for region in self.regions:
            self.fields[f"budget_{region.pk}"] = forms.CharField(
                label=_("Budget in %(region)s (%(currency)s)") % {"region": region.name, "currency": currency},
                required=False,
                max_length=20,
            )

    def tier_fields(self) -> list[tuple[Any, Any]]:
        return [(self[f"threshold_{i}"], self[f"reward_{i}"]) for i in range(1, TIER_ROWS + 1)]

    def tier_kind_fields(self) -> list[tuple[Any, Any, Any]]:
        return [
            (self[f"reward_kind_{i}"], self[f"reward_points_{i}"], self[f"reward_item_{i}"])
            for i in range(1, TIER_ROWS + 1)
        ]

    def budget_fields(self) -> list[Any]:
        return [self[f"budget_{region.pk}"] for region in self.regions]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tiers = []
        for index in range(1, TIER_ROWS + 1):
            threshold = cleaned.get(f"threshold_{index}")
            try:
                reward = _minor_or_none(cleaned.get(f"reward_{index}") or "", self.currency)
            except (ValueError, InvalidLedgerRequestError):
                self.add_error(f"reward_{index}", _("Enter an amount like 500.00."))
                continue
            if threshold is None and reward is None:
                continue
            if threshold is None:
                self.add_error(f"threshold_{index}", _("Give the target this reward is for."))
                continue
            kind = cleaned.get(f"reward_kind_{index}") or TierRewardKind.CASH
            tiers.append(
                TierSpec(
                    threshold=threshold,
                    reward_minor=reward,
                    reward_kind=kind,
                    reward_points=cleaned.get(f"reward_points_{index}") if kind == TierRewardKind.POINTS else None,
                    reward_item=cleaned.get(f"reward_item_{index}") if kind == TierRewardKind.E_VOUCHER else None,
                )
            )
        budgets = {}
        for region in self.regions:
            try:
                amount = _minor_or_none(cleaned.get(f"budget_{region.pk}") or "", self.currency)
            except (ValueError, InvalidLedgerRequestError):
                self.add_error(f"budget_{region.pk}", _("Enter an amount like 250000.00."))
                continue
            if amount is not None:
                budgets[region] = amount
        cleaned["tiers"] = tiers
        cleaned["budgets"] = budgets
        return cleaned


class FieldRoleForm(GuardedForm):
    email = forms.EmailField(label=_("E-mail address"), help_text=_("The person needs an account here."))
    role = forms.ChoiceField(choices=FieldRole.Kind.choices)
    regions = forms.ModelMultipleChoiceField(
        queryset=Region.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Sales: exactly one. Regional head: one or more. Admins: none (they see every region)."),
    )

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["regions"]
        assert isinstance(region_field, forms.ModelMultipleChoiceField)
        region_field.queryset = regions
