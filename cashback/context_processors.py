"""Template context shared by every server-rendered page: the main navigation for the person viewing it."""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse


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


def _has_merchant_memberships(user: Any) -> bool:
    """Whether the user works for at least one merchant (F-A3), so the "Merchant portal" item shows.

    One EXISTS query through the merchants selector.
    """
    from merchants.selectors import has_memberships

    return has_memberships(user=user)


MERCHANT_PORTAL_URL_NAME = "merchants:portal"
STAFF_PANEL_URL_NAME = "adminpanel:index"


def _items_for(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        links = [
            ("How it works", reverse("how_it_works"), False),
            ("Log in", reverse("account_login"), False),
            ("Sign up", reverse("account_signup"), True),
        ]
        return [NavItem(label, url, _is_current(request, url), prominent=cta) for label, url, cta in links]

    urls = [("Wallet", reverse("wallet:home")), ("Account", reverse("accounts:profile"))]
    if _has_merchant_memberships(user):
        urls.append(("Merchant portal", reverse(MERCHANT_PORTAL_URL_NAME)))
    if user.is_staff:
        urls.append(("Staff panel", reverse(STAFF_PANEL_URL_NAME)))
        urls.append(("Admin", reverse("admin:index")))
    items = [NavItem(label, url, _is_current(request, url)) for label, url in urls]
    items.append(NavItem("Log out", reverse("account_logout"), method="post"))
    return items


def navigation(request: HttpRequest) -> dict[str, list[NavItem]]:
    """Navigation for the visitor, consumer, merchant staff or platform staff viewing the page."""
    return {"nav_items": _items_for(request)}
