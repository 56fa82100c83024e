from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str


def _items_for(request: HttpRequest) -> list[NavItem]:
    user = request.user
    if not user.is_authenticated:
        return [
            NavItem("How it works", reverse("how_it_works")),
            NavItem("Log in", reverse("account_login")),
            NavItem("Sign up", reverse("account_signup")),
        ]
    items = [NavItem("Wallet", reverse("wallet:home")), NavItem("Account", reverse("accounts:profile"))]
    if user.is_staff:
        items.append(NavItem("Admin", reverse("admin:index")))
    return items


def navigation(request: HttpRequest) -> dict[str, list[NavItem]]:
    """Navigation for the visitor, consumer, merchant staff or platform staff viewing the page."""
    return {"nav_items": _items_for(request)}
