"""The staff panel's forms for manual adjustments: who is adjusted (a person, a merchant or a
charity, by id), which way, how much and why. Amounts go through ``wallet.money.parse_amount``."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from accounts.models import User
from cashback.errors import DomainError
from cashback.forms import GuardedForm
from charity.models import Charity
from merchants.models import Merchant
from wallet.models import AccountKind, Currency, Direction
from wallet.money import parse_amount

ACCOUNT_CHOICES = [
    (AccountKind.CONSUMER_AVAILABLE, "A person's available cashback"),
    (AccountKind.MERCHANT_FUNDING, "A merchant's prepaid funding"),
    (AccountKind.MERCHANT_RECEIVABLE, "What a merchant owes the platform"),
    (AccountKind.CHARITY_PAYABLE, "What the platform owes a charity"),
]
DIRECTION_CHOICES = [
    (Direction.CREDIT, "Credit (the account gains)"),
    (Direction.DEBIT, "Debit (the account loses)"),
]


class AdjustmentProposeForm(GuardedForm):
    account_kind = forms.ChoiceField(label="Account", choices=ACCOUNT_CHOICES)
    owner_id = forms.IntegerField(
        label="Id of the person, merchant or charity", min_value=1, help_text="As shown in their staff page's address."
    )
    direction = forms.ChoiceField(label="Direction", choices=DIRECTION_CHOICES, widget=forms.RadioSelect)
    amount = forms.CharField(
        label="Amount",
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}),
    )
    currency = forms.ChoiceField(label="Currency", choices=Currency.choices)
    reason = forms.CharField(
        label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 3}), help_text="Seen by the approver."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount, currency = data.get("amount"), data.get("currency")
        if amount and currency:
            try:
                data["amount_minor"] = parse_amount(amount, currency)
            except DomainError as error:
                self.add_error("amount", error.message)
        kind, owner_id = data.get("account_kind"), data.get("owner_id")
        if kind and owner_id:
            self._resolve_owner(data, kind, owner_id)
        return data

    def _resolve_owner(self, data: dict[str, Any], kind: str, owner_id: int) -> None:
        """The account's owner: ``user`` for a person, ``owner_key`` for a merchant or a charity."""
        data["user"], data["owner_key"] = None, ""
        if kind == AccountKind.CONSUMER_AVAILABLE:
            user = User.objects.filter(pk=owner_id, is_active=True, is_staff=False).first()
            if user is None:
                self.add_error("owner_id", _("No active person (consumer) has this id."))
            data["user"] = user
        elif kind in (AccountKind.MERCHANT_FUNDING, AccountKind.MERCHANT_RECEIVABLE):
            merchant = Merchant.objects.filter(pk=owner_id).first()
            if merchant is None:
                self.add_error("owner_id", _("No merchant has this id."))
            else:
                data["owner_key"] = merchant.ledger_owner_key
        else:
            charity = Charity.objects.filter(pk=owner_id).first()
            if charity is None:
                self.add_error("owner_id", _("No charity has this id."))
            else:
                data["owner_key"] = charity.owner_key


class AdjustmentRejectForm(GuardedForm):
    note = forms.CharField(label="Why it is rejected", max_length=300, required=False)
