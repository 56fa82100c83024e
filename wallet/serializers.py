"""The mobile API's shapes for the wallet: amounts as decimal strings with their currency."""

from typing import Any

from rest_framework import serializers

from wallet.models import AccountKind, Entry, JournalKind
from wallet.money import minor_to_decimal_string


class CurrencyBalancesSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="ISO 4217 code, e.g. NOK.")
    pending = serializers.CharField(help_text='Earned but not yet available, e.g. "12.50".')
    available = serializers.CharField(help_text="Spendable now: posted balance less reserved holds.")
    lifetime_earned = serializers.CharField(help_text="All cashback ever earned, less reversals.")
    donated = serializers.CharField()
    paid_out = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, str]:
        return instance.as_decimal_strings()


class WalletSerializer(serializers.Serializer):
    balances = CurrencyBalancesSerializer(many=True)


class EntryFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=JournalKind.choices, required=False)
    date_from = serializers.DateField(required=False, help_text="Inclusive, YYYY-MM-DD, in Europe/Oslo.")
    date_to = serializers.DateField(required=False, help_text="Inclusive, YYYY-MM-DD, in Europe/Oslo.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if date_from and date_to and date_from > date_to:
            raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
        return attrs


_ACCOUNT_NAMES: dict[str, str] = {
    AccountKind.CONSUMER_PENDING: "pending",
    AccountKind.CONSUMER_AVAILABLE: "available",
    AccountKind.CONSUMER_RECEIVABLE: "receivable",
}


class EntrySerializer(serializers.ModelSerializer):
    transaction_id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(source="transaction.kind", read_only=True)
    kind_label = serializers.CharField(source="transaction.get_kind_display", read_only=True)
    memo = serializers.CharField(source="transaction.memo", read_only=True)
    causes = serializers.JSONField(source="transaction.causes", read_only=True)
    account = serializers.SerializerMethodField(help_text="Which balance moved: pending, available or receivable.")
    purchase = serializers.SerializerMethodField(
        help_text="The purchase that caused it, if any: id, shop, time, amount."
    )
    offer = serializers.SerializerMethodField(help_text="The offer that caused it, if any: id and title.")
    amount = serializers.SerializerMethodField(help_text="Signed decimal string: positive adds to the balance.")

    class Meta:
        model = Entry
        fields = [
            "id",
            "created_at",
            "transaction_id",
            "kind",
            "kind_label",
            "memo",
            "causes",
            "purchase",
            "offer",
            "account",
            "direction",
            "amount",
            "currency",
        ]
        read_only_fields = fields

    def get_account(self, entry: Entry) -> str:
        return _ACCOUNT_NAMES.get(entry.account.kind, entry.account.kind)

    def _cause(self, entry: Entry, name: str) -> dict[str, Any] | None:
        cause_id = (entry.transaction.causes or {}).get(name)
        found = self.context.get("causes", {}).get(f"{name}s", {}).get(cause_id)
        if found is None:
            return None
        if name == "purchase":
            amount = minor_to_decimal_string(found["amount_minor"], found["currency"])
            found = {key: value for key, value in found.items() if key != "amount_minor"} | {"amount": amount}
        return found

    def get_purchase(self, entry: Entry) -> dict[str, Any] | None:
        return self._cause(entry, "purchase")

    def get_offer(self, entry: Entry) -> dict[str, Any] | None:
        return self._cause(entry, "offer")

    def get_amount(self, entry: Entry) -> str:
        return minor_to_decimal_string(entry.signed_amount, entry.currency)
