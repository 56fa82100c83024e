"""Every page of every role, on the demo data, at 390x844 and 1280x800: no sideways scroll and no
serious or critical axe-core violation.

The demo (seed_demo) gives each role its pages and their contents. Each role starts at its home and
follows the links of the pages it reaches (one page of each kind: /wallet/purchases/12/ stands for
every purchase), as a person clicking around would; what is skipped is listed in
tests/accessibility.py (downloads, JSON, logout, Django's own admin). Staff hold the demo TOTP
authenticator, so the two-factor guard lets them in as it does after a real login.

One test seeds once and walks all roles at both widths (seeding takes most of a minute); it reports
every problem found, not only the first.
"""

import logging
from collections import deque
from importlib import import_module
from urllib.parse import urlsplit

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import Error as PlaywrightError

from cashback.demo import seed_demo_data
from tests.accessibility import axe_violations, page_pattern, same_site_links, sideways_overflow
from tests.browser import DESKTOP, PHONE, screenshot

logger = logging.getLogger(__name__)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Role, the demo login (None: not logged in), where the role starts.
ROLES = [
    ("visitor", None, ["/", "/how-it-works/", "/faq/", "/shops/", "/partners/", "/accounts/login/"]),
    ("consumer", "consumer@demo.cashback.example", ["/wallet/"]),
    ("owner", "owner@demo.cashback.example", ["/portal/"]),
    ("analyst", "analyst@demo.cashback.example", ["/portal/"]),
    ("support", "support@demo.cashback.example", ["/staff/"]),
    ("marketing", "marketing@demo.cashback.example", ["/staff/"]),
    ("finance", "finance@demo.cashback.example", ["/staff/"]),
    ("admin", "admin@demo.cashback.example", ["/staff/"]),
]
MAX_PAGES_PER_ROLE = 80
TILE_PATH = "/tiles-blocked/"  # the maps' tiles: never fetched from outside (refused in the browser)


def _check(page, where: str, problems: list[str]) -> None:
    overflow = sideways_overflow(page)
    if overflow:
        problems.append(f"{where}: scrolls sideways, {overflow}")
        screenshot(page, f"overflow-{where.replace('/', '-').replace(' ', '')}")
    problems.extend(f"{where}: {violation}" for violation in axe_violations(page))


def _crawl(page, base_url: str, starts: list[str], role: str, problems: list[str]) -> list[str]:
    """The role's pages, one of each kind, in the order reached; each checked at the page's width."""
    queue = deque(starts)
    seen_patterns: set[str] = set()
    pages: list[str] = []
    while queue and len(pages) < MAX_PAGES_PER_ROLE:
        path = queue.popleft()
        pattern = page_pattern(path)
        if pattern in seen_patterns:
            continue
        seen_patterns.add(pattern)
        try:
            response = page.goto(path)
        except PlaywrightError as error:  # a link to a file: the browser downloads it
            if "Download is starting" in str(error):
                continue
            raise
        if response is not None and response.status >= 500:
            problems.append(f"{role} {path}: answered {response.status}")
            continue
        if response is None or response.status >= 400:
            continue  # refused: another role's page
        landed = _path_of(page)
        if landed != path:  # sent elsewhere (/portal/ → the merchant's own portal, or a login page)
            if page_pattern(landed) in seen_patterns:
                continue
            seen_patterns.add(page_pattern(landed))
        pages.append(landed)
        _check(page, f"{role} {landed} at {page.viewport_size['width']}", problems)
        queue.extend(same_site_links(page, base_url))
    return pages


def _path_of(page) -> str:
    return urlsplit(page.url).path


class Opener:
    """Browser pages as a role; script errors and CSP violations are problems (the blocked tiles' are not)."""

    def __init__(self, browser, live_server) -> None:
        self.browser, self.live_server = browser, live_server
        self.problems: list[str] = []

    def _on_console(self, message) -> None:
        if message.type == "error" and TILE_PATH not in (message.location or {}).get("url", ""):
            self.problems.append(f"{message.page.url if message.page else ''}: {message.text}")

    def open(self, email: str | None, viewport: dict[str, int]):
        context = self.browser.new_context(viewport=viewport, base_url=self.live_server.url, accept_downloads=False)
        context.route(f"**{TILE_PATH}**", lambda route: route.abort())
        if email is not None:
            client = Client()
            client.force_login(get_user_model().objects.get(email=email))
            session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": self.live_server.url}]
            )
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))
        return page


def test_every_page_of_every_role_fits_a_phone_and_has_no_serious_accessibility_violation(
    browser, live_server, settings
):
    settings.MAP_TILE_URL = f"{live_server.url}{TILE_PATH}{{z}}/{{x}}/{{y}}.png"
    # A transactional test that ran before this one on the same worker flushed the tables, and with
    # them the public pages a data migration seeds (How it works, the FAQ): put them back, as migrate would.
    import_module("content.migrations.0003_seed_public_pages").seed(django_apps, None)
    seed_demo_data()
    opener = Opener(browser, live_server)
    problems: list[str] = []
    visited = 0
    for role, email, starts in ROLES:
        phone = opener.open(email, PHONE)
        paths = _crawl(phone, live_server.url, starts, role, problems)
        assert paths, f"{role}: no page reached from {starts}"
        logger.info("%s: %d pages %s", role, len(paths), paths)
        desktop = opener.open(email, DESKTOP)
        for path in paths:
            desktop.goto(path)
            _check(desktop, f"{role} {path} at {DESKTOP['width']}", problems)
        visited += 2 * len(paths)
        phone.context.close()
        desktop.context.close()
    logger.info("visited %d page views", visited)
    problems.extend(opener.problems)
    assert not problems, "\n".join(problems)
