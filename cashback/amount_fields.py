"""The serializer field of an amount from outside: a JSON string, taken as sent.

DRF's CharField turns a JSON number into a string (``12.5`` → ``"12.5"``) and trims spaces; an
amount must be neither (cashback/amounts.py parses the text). Used by the partner API's order,
refund and spend-hold requests.
"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers


class AmountField(serializers.CharField):
    """A decimal amount as a JSON string ("249.00"); a JSON number is refused (floats are not exact)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(_('Send amounts as decimal strings, e.g. "249.00".'))
        return super().to_internal_value(data)
