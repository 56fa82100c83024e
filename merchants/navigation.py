"""The merchants' item in the site navigation (registered in MerchantsConfig.ready())."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from merchants.selectors import has_memberships

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

MERCHANT_PORTAL_URL_NAME = "merchants:portal"


def portal_nav_item(user: User | AnonymousUser) -> tuple[str, str] | None:
    """ "Merchant portal" for people who work for at least one merchant (F-A3): one EXISTS query."""
    if has_memberships(user=user):
        return (gettext_noop("Merchant portal"), MERCHANT_PORTAL_URL_NAME)  # translated when shown
    return None
