"""What every page must pass in a real browser: no sideways scroll at phone width and no serious or
critical axe-core violation (tests/vendor/axe-core, vendored from the npm registry).

axe is evaluated through Playwright (the DevTools protocol), not added as a <script>: the page's
Content-Security-Policy allows scripts from our origin only and must stay as production sends it.
"""

import hashlib
import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
BLOCKING_IMPACTS = ("serious", "critical")

# Links a crawl does not follow: leaving the session, files rather than pages, JSON, Django's own
# admin (not our pages), the fake card network's development page, and language or login doors.
SKIPPED_PATH = re.compile(
    r"^/(api/|django-admin/|static/|media/|healthz/|_allauth/|dev/)"
    r"|/logout/|\.(pdf|csv|json|png|svg|xml|txt)$|/(export|download|receipt|statement)[^/]*/?$"
)


@cache
def axe_source() -> str:
    source = AXE_PATH.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    assert digest == AXE_SHA256, f"{AXE_PATH} is not the vendored axe-core (sha256 {digest})"
    return source.decode()


def axe_violations(page) -> list[str]:
    """The serious and critical axe-core violations of the page as shown, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            }));
        }"""
    )
    return [
        f"{item['impact']} {item['id']} ({item['help']}): {', '.join(item['targets'])}"
        for item in results
        if item["impact"] in BLOCKING_IMPACTS
    ]


def sideways_overflow(page) -> str | None:
    """None when the page fits its viewport; else how wide it is and the widest element's selector."""
    found = page.evaluate(
        """() => {
            const width = window.innerWidth;
            const scroll = document.documentElement.scrollWidth;
            if (scroll <= width) return null;
            let widest = null;
            for (const el of document.querySelectorAll('body *')) {
                const right = el.getBoundingClientRect().right;
                if (right > width + 1 && (!widest || right > widest.right)) {
                    widest = {right, name: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                        + (el.className && typeof el.className === 'string'
                           ? '.' + el.className.trim().split(/\\s+/).join('.') : '')};
                }
            }
            return `${scroll}px wide at ${width}px` + (widest ? `; widest: ${widest.name}` : '');
        }"""
    )
    return found


def page_pattern(path: str) -> str:
    """One representative per page kind: /wallet/purchases/12/ and /wallet/purchases/13/ are one page
    (the URL pattern that serves it)."""
    try:
        match = resolve(path)
    except Resolver404:
        return re.sub(r"/\d+(?=/|$)", "/N", path)
    return f"{match.route}:{match.view_name}"


def same_site_links(page, base_url: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    host = urlsplit(base_url).netloc
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc != host or not parts.path.startswith("/") or SKIPPED_PATH.search(parts.path):
            continue
        paths.append(parts.path)
    return paths
