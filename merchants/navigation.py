"""The merchants' item in the site navigation (registered in MerchantsConfig.ready())."""

from typing import Any

from merchants.selectors import has_memberships

MERCHANT_PORTAL_URL_NAME = "merchants:portal"


def portal_nav_item(user: Any) -> tuple[str, str] | None:
    """ "Merchant portal" for people who work for at least one merchant (F-A3): one EXISTS query."""
    if has_memberships(user=user):
        return ("Merchant portal", MERCHANT_PORTAL_URL_NAME)
    return None
