"""The sign-up box "I accept the terms of service" links to real terms: /terms/ shows the page staff
publish as "terms", or the built-in terms until they do (never a dead link)."""

import pytest

from content import services
from content.kinds import PAGES
from content.models import Page
from tests.accounts.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_the_sign_up_box_links_to_the_terms_page_which_exists_without_any_content(client):
    signup = client.get("/accounts/signup/").content.decode()

    assert 'href="/terms/"' in signup
    assert not Page.objects.filter(slug="terms").exists()
    terms = client.get("/terms/")
    assert terms.status_code == 200
    assert "<h1>Terms of service</h1>" in terms.content.decode()


def test_published_terms_replace_the_built_in_ones(client):
    actor = StaffUserFactory(is_superuser=True)
    page = services.content_create(
        kind=PAGES,
        values={"slug": "terms", "title": "Our terms", "summary": "", "body": "## Edited by staff\n\nText."},
        actor=actor,
    )
    services.content_publish(item=page, actor=actor)

    html = client.get("/terms/").content.decode()

    assert "Our terms" in html and "Edited by staff" in html
