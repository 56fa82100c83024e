from django import template

from wallet.money import minor_to_decimal_string

register = template.Library()


@register.filter
def money(minor_units: int, currency: str) -> str:
    """``{{ entry.signed_amount|money:entry.currency }}`` → ``"12.50"``; exact, never via float."""
    return minor_to_decimal_string(minor_units, currency)
