"""Request shapes of the partner API's order endpoints (/api/v1/partner/orders/). Amounts are decimal
strings in the order's currency (parsed with ``cashback.amounts``, as the webhook doors do);
validation errors name the field at fault."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from cashback.amount_fields import AmountField
from cashback.amounts import AmountError, money_from_outside
from cashback.openapi import MoneySerializer
from wallet.models import Currency

# Printable ASCII without spaces or "/": order and refund ids go into URLs, purchase ids and event ids.
REFERENCE_PATTERN = r"^[!-.0-~]{1,64}$"
REFERENCE_MESSAGE = "1 to 64 printable characters without spaces or slashes."
MAX_LINE_ITEMS = 500
# A partner's clock may run a little ahead of ours; anything further in the future is a mistake.
CLOCK_SKEW = timedelta(minutes=5)


class CustomerSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, max_length=254)
    reference = serializers.CharField(required=False, max_length=255, help_text="Your own id of the customer.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("email") and not attrs.get("reference"):
            raise serializers.ValidationError(_("Give the customer's e-mail address or your customer reference."))
        return attrs


class LineItemSerializer(serializers.Serializer):
    sku = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    category = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000, default=1)
    unit_amount = AmountField(required=False, help_text="Price of one unit.")
    amount = AmountField(required=False, help_text="The line's total after discounts.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "unit_amount" not in attrs and "amount" not in attrs:
            raise serializers.ValidationError({"amount": ["Give the line's amount or its unit_amount."]})
        return attrs


def _minor(value: str, currency: str, *, allow_zero: bool = False) -> int:
    """Decimal string → minor units (cashback.amounts, the webhook doors' parser), or a ValidationError."""
    try:
        return money_from_outside(value, currency=currency, positive=not allow_zero)
    except AmountError as error:
        raise serializers.ValidationError(error.message, code=error.code) from error


class OrderSerializer(serializers.Serializer):
    """``POST /api/v1/partner/orders/``. ``context["merchant"]`` is the calling merchant."""

    order_id = serializers.RegexField(REFERENCE_PATTERN, error_messages={"invalid": REFERENCE_MESSAGE})
    customer = CustomerSerializer()
    amount = AmountField(help_text='What the customer paid, e.g. "249.00".')
    currency = serializers.ChoiceField(choices=Currency.choices)
    occurred_at = serializers.DateTimeField(help_text="ISO 8601, with an offset (else read as Europe/Oslo).")
    location_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    line_items: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=LineItemSerializer(), required=False, default=list, max_length=MAX_LINE_ITEMS
    )

    def validate_currency(self, value: str) -> str:
        merchant = self.context["merchant"]
        if value != merchant.currency:
            raise serializers.ValidationError(
                _("Orders are reported in the merchant's currency, %(currency)s.") % {"currency": merchant.currency}
            )
        return value

    def validate_occurred_at(self, value: Any) -> Any:
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError(_("The order cannot be in the future."))
        return value

    def validate_location_id(self, value: int | None) -> int | None:
        if value is not None and not self.context["merchant"].locations.filter(pk=value).exists():
            raise serializers.ValidationError(_("No shop with this id at your merchant."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        currency = attrs["currency"]
        errors: dict[str, Any] = {}
        try:
            attrs["amount_minor"] = _minor(attrs["amount"], currency)
        except serializers.ValidationError as error:
            errors["amount"] = error.detail
        line_errors: list[dict[str, Any]] = []
        for line in attrs["line_items"]:
            problems: dict[str, Any] = {}
            unit_minor = total_minor = None
            for name in ("unit_amount", "amount"):
                if name in line:
                    try:
                        value = _minor(line[name], currency, allow_zero=True)
                    except serializers.ValidationError as error:
                        problems[name] = error.detail
                        continue
                    if name == "unit_amount":
                        unit_minor = value
                    else:
                        total_minor = value
            if unit_minor is not None and total_minor is None:
                total_minor = unit_minor * line["quantity"]
            line["amount_minor"] = total_minor
            line_errors.append(problems)
        if any(line_errors):
            errors["line_items"] = line_errors
        if not errors and attrs["line_items"]:
            lines_total = sum(line["amount_minor"] for line in attrs["line_items"])
            if lines_total > attrs["amount_minor"]:
                errors["line_items"] = [
                    "The lines add up to more than the order's amount: send each line's amount after discounts."
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class RefundSerializer(serializers.Serializer):
    """``POST /api/v1/partner/orders/<order_id>/refunds/``. ``context["currency"]``: the order's."""

    amount = AmountField()
    refund_id = serializers.RegexField(
        REFERENCE_PATTERN,
        required=False,
        error_messages={"invalid": REFERENCE_MESSAGE},
        help_text="Your id of this refund; defaults to the request's Idempotency-Key.",
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="When it was refunded; defaults to now.")

    def validate_occurred_at(self, value: Any) -> Any:
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError(_("The refund cannot be in the future."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["amount_minor"] = _minor(attrs["amount"], self.context["currency"])
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"amount": error.detail}) from error
        return attrs


class OrderResponseSerializer(serializers.Serializer):
    """What the order endpoints answer (documentation of ``partner_apis._order_body``)."""

    order_id = serializers.CharField()
    purchase_id = serializers.IntegerField()
    status = serializers.CharField()
    amount = serializers.CharField(help_text="Decimal string.")
    refunded = serializers.CharField(help_text="Decimal string.")
    currency = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    cashback = MoneySerializer()


class RefundResponseSerializer(OrderResponseSerializer):
    refund_id = serializers.CharField()
