"""Browser tests wait for what they assert: ``assert locator.is_visible()`` reads the page once, at
once, and fails when the page is still loading after a click (seen on a loaded machine in the
cards journey); ``expect(locator).to_be_visible()`` retries until Playwright's timeout."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ASSERT_WITHOUT_WAITING = re.compile(r"^\s*assert .*\.(is_visible|is_hidden|is_enabled|is_checked)\(\)", re.M)


def test_no_browser_test_asserts_a_state_without_waiting():
    found = [
        f"{path.relative_to(TESTS.parent)}:{source[: match.start()].count(chr(10)) + 1}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != Path(__file__).name
        for source in [path.read_text()]
        for match in ASSERT_WITHOUT_WAITING.finditer(source)
    ]

    assert found == [], "use expect(locator).to_be_visible() (it waits): " + ", ".join(found)
