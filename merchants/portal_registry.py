"""What apps above merchants add to the merchant portal, registered in their ``AppConfig.ready()``.

merchants cannot import the apps above it (campaigns, insights, …), yet the portal's navigation, its
first page and an offer's page show their work. Like ``wallet.home_sections`` and the site
navigation, the base keeps a registry and the apps above fill it in:

- ``register_portal_section``: an item of the portal's navigation (a URL name taking the merchant id);
- ``register_overview_panel``: a panel on the portal's first page (a template and a function of the
  merchant giving its context; it runs for every viewer, so it must be cheap and read-only);
- ``register_offer_page_link``: a link on an offer's page (a URL name taking merchant id and offer id).

Registering the same key again replaces the entry, so a ``ready()`` that runs twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext

if TYPE_CHECKING:
    from merchants.models import Merchant


@dataclass(frozen=True)
class PortalSection:
    key: str  # also the page's ``section``, which marks the item as current
    label: str
    url_name: str
    order: int


@dataclass(frozen=True)
class OverviewPanel:
    key: str
    template: str
    context: Callable[[Merchant], dict[str, Any]]
    order: int


@dataclass(frozen=True)
class OfferPageLink:
    key: str
    label: str
    url_name: str


_sections: dict[str, PortalSection] = {}
_panels: dict[str, OverviewPanel] = {}
_offer_links: dict[str, OfferPageLink] = {}


def register_portal_section(*, key: str, label: str, url_name: str, order: int = 50) -> None:
    _sections[key] = PortalSection(key=key, label=label, url_name=url_name, order=order)


def register_overview_panel(
    *, key: str, template: str, context: Callable[[Merchant], dict[str, Any]], order: int = 50
) -> None:
    _panels[key] = OverviewPanel(key=key, template=template, context=context, order=order)


def register_offer_page_link(*, key: str, label: str, url_name: str) -> None:
    _offer_links[key] = OfferPageLink(key=key, label=label, url_name=url_name)


def portal_sections(*, merchant_id: int) -> list[tuple[str, str, str]]:
    """``(key, label, url)`` of the registered navigation items, in order."""
    ordered = sorted(_sections.values(), key=lambda s: (s.order, s.key))
    # Labels are registered untranslated (gettext_noop) and translated here, in the viewer's language.
    return [(s.key, gettext(s.label), reverse(s.url_name, args=[merchant_id])) for s in ordered]


def overview_panels(*, merchant: Merchant) -> list[tuple[str, dict[str, Any]]]:
    """``(template, context)`` of each registered panel of the portal's first page, in order."""
    ordered = sorted(_panels.values(), key=lambda p: (p.order, p.key))
    return [(p.template, p.context(merchant)) for p in ordered]


def offer_page_links(*, merchant_id: int, offer_id: int) -> list[tuple[str, str]]:
    """``(label, url)`` of the registered links of an offer's page."""
    return [
        (link.label, reverse(link.url_name, args=[merchant_id, offer_id]))
        for link in sorted(_offer_links.values(), key=lambda link: link.key)
    ]
