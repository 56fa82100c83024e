"""Template context shared by every server-rendered page: the main navigation for the person viewing it."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation.

    ``method`` is "get" for a link and "post" for an action that changes state (log out), which
    base.html renders as a form with a CSRF token. ``current`` marks the page being viewed
    (``aria-current="page"``); ``prominent`` styles the call to action (sign up).
    """

    label: str
    url: str
    current: bool = False
    method: str = "get"
    prominent: bool = False


def _is_current(request: HttpRequest, url: str) -> bool:
    if url == "/":
        return request.path == "/"
    return request.path == url or request.path.startswith(url)


# A nav provider takes the signed-in user and returns (label, URL name) when the item applies to them.
NavProvider = Callable[[Any], tuple[str, str] | None]
_member_nav_providers: list[NavProvider] = []


def register_nav_item(provider: NavProvider) -> None:
    """Add an item for signed-in people, after "Wallet" and "Account", in registration order.

    Apps register in their ``AppConfig.ready()``: the base cannot ask an app above it whether an item
    applies (the merchants app adds "Merchant portal" for people who work for a merchant). Registering
    the same provider twice is a no-op.
    """
    if provider not in _member_nav_providers:
        _member_nav_providers.append(provider)


STAFF_PANEL_URL_NAME = "adminpanel:index"


def _items_for(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        links = [
            (_("Shops"), reverse("shops:list"), False),
            (_("How it works"), reverse("how_it_works"), False),
            (_("Log in"), reverse("account_login"), False),
            (_("Sign up"), reverse("account_signup"), True),
        ]
        return [NavItem(label, url, _is_current(request, url), prominent=cta) for label, url, cta in links]

    urls = [(_("Wallet"), reverse("wallet:home")), (_("Account"), reverse("accounts:profile"))]
    for provider in _member_nav_providers:
        item = provider(user)
        if item is not None:
            label, url_name = item
            urls.append((_(label), reverse(url_name)))
    if user.is_staff:
        urls.append((_("Staff panel"), reverse(STAFF_PANEL_URL_NAME)))
        urls.append((_("Admin"), reverse("admin:index")))
    items = [NavItem(label, url, _is_current(request, url)) for label, url in urls]
    items.append(NavItem(_("Log out"), reverse("account_logout"), method="post"))
    return items


def navigation(request: HttpRequest) -> dict[str, list[NavItem]]:
    """Navigation for the visitor, consumer, merchant staff or platform staff viewing the page."""
    return {"nav_items": _items_for(request)}


@cache
def offered_languages() -> tuple[tuple[str, str], ...]:
    """The languages of ``settings.LANGUAGES`` that have a translation file, and the default.

    Adding Swedish is a file: ``locale/sv/LC_MESSAGES/django.po`` (docs/i18n.md); until it exists,
    the switcher does not offer a language whose pages would still be in English.
    """
    translated = {
        path.parent.parent.name for base in settings.LOCALE_PATHS for path in Path(base).glob("*/LC_MESSAGES/django.po")
    }
    return tuple(
        (code, name) for code, name in settings.LANGUAGES if code == settings.LANGUAGE_CODE or code in translated
    )


def languages(request: HttpRequest) -> dict[str, Any]:
    """The language switcher of the header and footer: the choices, the current one, the page to return to."""
    return {
        "offered_languages": offered_languages(),
        "current_language": translation.get_language() or settings.LANGUAGE_CODE,
        "language_next": request.get_full_path(),
    }
