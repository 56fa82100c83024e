"""Browser test fixtures: Debian's chromium driven by Playwright against the live test server.

Never downloads a browser: the executable is /usr/bin/chromium (or $CHROMIUM_PATH);
without it these tests are skipped with a message saying how to install it.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous calls, not async ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


@pytest.fixture(scope="session")
def browser() -> Iterator:
    executable = _chromium_path()
    if executable is None:
        pytest.skip("needs Debian's chromium: apt-get install -y chromium (make test does it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class CspWatcher:
    """Collects Content-Security-Policy violations and page errors reported by the browser."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def on_console(self, message) -> None:
        if message.type == "error":
            self.problems.append(message.text)

    def on_page_error(self, error) -> None:
        self.problems.append(str(error))


@pytest.fixture
def page_factory(browser, live_server) -> Iterator:
    """Opens pages at a given viewport; fails the test if any page reported a CSP violation or error."""
    contexts = []
    watcher = CspWatcher()

    def open_page(viewport: dict[str, int] = PHONE):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", watcher.on_console)
        page.on("pageerror", watcher.on_page_error)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert watcher.problems == [], f"the browser reported: {watcher.problems}"


def screenshot(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    path = SCREENSHOT_DIR / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def logged_in_page(page_factory, live_server, user, viewport: dict[str, int] = PHONE):
    """A page at ``viewport`` whose browser holds ``user``'s session (logged in through the test client)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    page = page_factory(viewport)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page
