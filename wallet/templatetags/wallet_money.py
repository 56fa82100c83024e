"""Kept so templates that ``{% load wallet_money %}`` still work: ``money`` is the one built-in filter.

The filter lives in ``cashback.templatetags.formatting`` (built into every template) and writes the
amount with its currency in the active language: ``1 245,50 kr`` (nb), ``NOK 1,245.50`` (en).
"""

from django import template

from cashback.templatetags.formatting import money

register = template.Library()
register.filter("money", money)
