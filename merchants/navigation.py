"""The merchants' item in the site navigation (registered in MerchantsConfig.ready())."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from merchants.selectors import has_memberships

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

MERCHANT_PORTAL_URL_NAME = "merchants:portal"


def portal_nav_item(user: User | AnonymousUser) -> tuple[str, str] | None:
    """ "Merchant portal" for people who work for at least one merchant (F-A3): one EXISTS query."""
    if has_memberships(user=user):
        return ("Merchant portal", MERCHANT_PORTAL_URL_NAME)
    return None


# --- Sections of the merchant portal that later apps add -----------------------------------------


@dataclass(frozen=True)
class PortalSection:
    """A tab of the portal's navigation that an app above merchants adds (registered in its ready())."""

    key: str  # the ``section`` its pages set, which marks the tab current
    label: str
    url_name: str  # reversed with the merchant's id


_PORTAL_SECTIONS: dict[str, PortalSection] = {}


def register_portal_section(*, key: str, label: str, url_name: str) -> None:
    """Add a tab to the portal's navigation (after Offers); registering a key again replaces it."""
    _PORTAL_SECTIONS[key] = PortalSection(key=key, label=label, url_name=url_name)


def portal_sections() -> list[PortalSection]:
    return list(_PORTAL_SECTIONS.values())
