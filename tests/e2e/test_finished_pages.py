"""Pages a newcomer met looking unfinished, at phone and desktop widths: the partner page's step
numbers sit beside their text (they overlapped it), and the account page's checkbox sits beside its
label (it sat above it, under bare labels). Screenshots land in test-artifacts/screenshots/."""

import pytest

from tests.accounts.factories import UserFactory
from tests.browser import DESKTOP, PHONE, logged_in_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])

# Where each step's number (its ::before) ends and where the step's text begins.
STEP_BOXES = """() => [...document.querySelectorAll('ol.steps > li')].map(li => {
    const box = li.getBoundingClientRect();
    const number = getComputedStyle(li, '::before');
    const range = document.createRange();
    range.selectNodeContents(li);
    const text = range.getBoundingClientRect();
    return {
        numberRight: box.left + parseFloat(number.left) + parseFloat(number.width),
        numberBottom: box.top + parseFloat(number.top) + parseFloat(number.height),
        textLeft: text.left, textTop: text.top,
    };
})"""


@VIEWPORTS
def test_the_partner_pages_step_numbers_do_not_overlap_their_text(page_factory, viewport):
    page = page_factory(viewport)
    page.goto("/partners/")

    steps = page.evaluate(STEP_BOXES)

    screenshot(page, "partners")
    assert len(steps) == 4
    for step in steps:
        beside = step["textLeft"] >= step["numberRight"]
        below = step["textTop"] >= step["numberBottom"]
        assert beside or below, f"a step number covers its text: {step}"


@VIEWPORTS
def test_the_account_page_has_its_checkbox_beside_its_label_and_styled_fields(page_factory, live_server, viewport):
    page = logged_in_page(page_factory, live_server, UserFactory(), viewport)
    page.goto("/accounts/profile/")

    box = page.locator("form.form input[type=checkbox]").first
    checkbox = box.bounding_box()
    label = page.locator(f"label[for='{box.get_attribute('id')}']").bounding_box()

    screenshot(page, "account")
    assert checkbox["x"] + checkbox["width"] <= label["x"], "the label is not to the right of its checkbox"
    middle = checkbox["y"] + checkbox["height"] / 2
    assert label["y"] <= middle <= label["y"] + label["height"], "the checkbox is not on its label's line"
    assert page.locator("form.form button.button").count() == 1  # the house button, not a bare one
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
