"""Sections that apps above the wallet add to the wallet home page (the tier card, challenge progress).

The wallet may not import the apps above it, so they register a section provider in their
``AppConfig.ready()``: it takes the request and returns the section's HTML (rendered from the app's
own template), or ``None`` when it has nothing to show. The home page shows them in registration
order, between the balances and the movements.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

HomeSection = Callable[[HttpRequest], SafeString | None]
_sections: list[HomeSection] = []


def register_home_section(provider: HomeSection) -> None:
    """Add a section to the wallet home; registering the same provider twice is a no-op."""
    if provider not in _sections:
        _sections.append(provider)


def home_sections(request: HttpRequest) -> list[SafeString]:
    rendered = (provider(request) for provider in _sections)
    return [html for html in rendered if html]
