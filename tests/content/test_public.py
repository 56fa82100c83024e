"""The public pages read published content; banners show where and when they are placed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from content import selectors, services
from content.kinds import BANNERS, PAGES
from content.models import BannerPlacement
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.test_public_pages import _parse

pytestmark = pytest.mark.django_db


def _published_banner(*, text, placement=BannerPlacement.WALLET_HOME, starts=-1, ends=1, link=""):
    now = timezone.now()
    values = {
        "text": text,
        "link": link,
        "placement": placement,
        "starts_at": now + timedelta(days=starts),
        "ends_at": now + timedelta(days=ends) if ends is not None else None,
    }
    actor = StaffUserFactory()
    banner = services.content_create(kind=BANNERS, values=values, actor=actor)
    services.content_publish(item=banner, actor=actor)
    return banner


def test_the_faq_lists_the_seeded_questions_by_category(client):
    html = client.get(reverse("faq")).content.decode()

    assert html.index('id="shoppers"') < html.index('id="money"') < html.index('id="shops"')
    assert "<summary>Is it safe to link my card?</summary>" in html
    assert '<a href="/partners/" rel="noopener noreferrer">partner page</a>' in html


def test_a_page_with_hostile_markdown_keeps_the_content_security_policy(client):
    actor = StaffUserFactory()
    body = '## Hi\n\n<script>alert(1)</script> <p style="color:red" onclick="x()">red</p> [x](javascript:alert(1))'
    page = services.content_create(
        kind=PAGES, values={"slug": "hostile", "title": "Hostile", "summary": "", "body": body}, actor=actor
    )
    services.content_publish(item=page, actor=actor)

    response = client.get(reverse("content_page", args=["hostile"]))

    assert response.status_code == 200
    parsed = _parse(response.content.decode())
    assert parsed.inline_scripts == [] and parsed.inline_styles == [] and parsed.event_handlers == []
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not [link for link in parsed.links if (link.get("href") or "").startswith("javascript")]


def test_unknown_and_unpublished_pages_are_404(client):
    actor = StaffUserFactory()
    services.content_create(
        kind=PAGES, values={"slug": "draft", "title": "Draft", "summary": "", "body": "Not yet"}, actor=actor
    )

    assert client.get(reverse("content_page", args=["draft"])).status_code == 404
    assert client.get(reverse("content_page", args=["nope"])).status_code == 404


def test_the_wallet_home_shows_live_wallet_banners_only(client):
    _published_banner(text="Live on the wallet", link="/wallet/offers/")
    _published_banner(text="Not started yet", starts=1, ends=2)
    _published_banner(text="Already over", starts=-3, ends=-1)
    _published_banner(text="For the public pages", placement=BannerPlacement.PUBLIC_PAGES, ends=None)
    client.force_login(UserFactory())

    html = client.get(reverse("wallet:home")).content.decode()

    assert "Live on the wallet" in html and 'href="/wallet/offers/"' in html
    for hidden in ("Not started yet", "Already over", "For the public pages"):
        assert hidden not in html
    assert "For the public pages" in client.get(reverse("faq")).content.decode()


def test_a_banner_edited_but_not_republished_shows_its_published_text(client):
    banner = _published_banner(text="Old text")
    values = {name: getattr(banner, name) for name in BANNERS.fields} | {"text": "New text"}
    services.content_draft_save(item=banner, values=values, actor=StaffUserFactory())

    assert [b.text for b in selectors.banners_live(placement=BannerPlacement.WALLET_HOME)] == ["Old text"]


def test_live_banners_take_one_query_however_many_there_are(django_assert_num_queries):
    for n in range(5):
        _published_banner(text=f"Banner {n}")

    with django_assert_num_queries(1):
        banners = selectors.banners_live(placement=BannerPlacement.WALLET_HOME)

    assert len(banners) == selectors.BANNERS_SHOWN
