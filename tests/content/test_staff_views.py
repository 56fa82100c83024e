"""/staff/content/: who may use it, the edit → preview → publish → history → restore flow, form errors."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffAuditEntry
from content.forms import LINK_MESSAGE
from content.models import Banner, FaqEntry, Page, PageVersion
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("content_staff:index")


def _how_it_works() -> Page:
    return Page.objects.get(slug="how-it-works")


def _edit_url(page: Page) -> str:
    return reverse("content_staff:edit", args=["pages", page.pk])


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(INDEX)

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("role", [None, "support", "finance"])
def test_staff_without_a_content_role_and_consumers_are_refused(client, staff_with_role, role):
    client.force_login(staff_with_role(role) if role is not None else UserFactory())
    page = _how_it_works()

    assert client.get(INDEX).status_code == 403
    assert client.get(_edit_url(page)).status_code == 403
    assert client.get(reverse("content_staff:preview", args=["pages", page.pk])).status_code == 403
    assert client.post(reverse("content_staff:publish", args=["pages", page.pk])).status_code == 403
    assert client.post(_edit_url(page), {"title": "Hacked", "summary": "", "body": "x"}).status_code == 403
    assert _how_it_works().title == "How it works"


@pytest.mark.parametrize("role", ["marketing", "administrator"])
def test_marketing_and_administrators_see_every_kind_with_its_status(client, staff_with_role, role):
    client.force_login(staff_with_role(role))

    response = client.get(INDEX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "How it works" in html and "Is it safe to link my card?" in html
    assert "Published" in html
    assert f'href="{INDEX}" aria-current="page"' in html  # the staff panel's navigation


def test_edit_preview_publish_history_and_restore(client, staff_with_role):
    marketer = staff_with_role("marketing")
    client.force_login(marketer)
    page = _how_it_works()
    new_body = page.body + "\n\n## Gift cards\n\nSoon you can **buy gift cards** with cashback."

    # Given a saved draft, the public still sees the published text.
    response = client.post(_edit_url(page), {"title": "How it works", "summary": page.summary, "body": new_body})
    assert response.status_code == 302
    assert "gift cards" not in client.get(reverse("how_it_works")).content.decode()
    assert "Changes pending" in client.get(INDEX).content.decode()

    # The preview shows the draft through the public page's template.
    preview = client.get(reverse("content_staff:preview", args=["pages", page.pk])).content.decode()
    assert "Preview of the draft" in preview
    assert "<strong>buy gift cards</strong>" in preview and '<h2 id="section-gift-cards">' in preview

    # Publishing makes it public as version 2.
    assert client.post(reverse("content_staff:publish", args=["pages", page.pk])).status_code == 302
    public = client.get(reverse("how_it_works")).content.decode()
    assert "<strong>buy gift cards</strong>" in public and "Preview of the draft" not in public
    assert _how_it_works().published.number == 2

    # History lists both versions; restoring version 1 puts it back into the draft only.
    history = client.get(reverse("content_staff:history", args=["pages", page.pk])).content.decode()
    assert "Version 2" in history and "Version 1" in history
    old = client.get(reverse("content_staff:version", args=["pages", page.pk, 1])).content.decode()
    assert "gift cards" not in old and "Version 1" in old
    assert client.post(reverse("content_staff:restore", args=["pages", page.pk, 1])).status_code == 302
    assert "gift cards" not in _how_it_works().body
    assert "gift cards" in client.get(reverse("how_it_works")).content.decode()

    actions = list(
        StaffAuditEntry.objects.filter(target_type="content.page", target_id=str(page.pk))
        .order_by("id")
        .values_list("action", "actor_id")
    )
    assert actions == [(name, marketer.pk) for name in ("content.edit", "content.publish", "content.restore")]


def test_publishing_twice_says_there_is_nothing_new(client, staff_with_role):
    client.force_login(staff_with_role("marketing"))
    page = _how_it_works()

    response = client.post(reverse("content_staff:publish", args=["pages", page.pk]), follow=True)

    assert "nothing to publish" in response.content.decode()
    assert PageVersion.objects.filter(item=page).count() == 1


def test_a_new_page_is_validated_and_created_as_a_draft(client, staff_with_role):
    client.force_login(staff_with_role("marketing"))
    url = reverse("content_staff:create", args=["pages"])

    bad = client.post(url, {"slug": "how-it-works", "title": "", "summary": "", "body": "   "})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "Page with this Slug already exists." in html
    assert "Write the page&#x27;s text." in html or "Write the page's text." in html
    assert "This field is required." in html

    good = client.post(url, {"slug": "terms", "title": "Terms", "summary": "", "body": "## Terms\n\nBe kind."})
    assert good.status_code == 302
    page = Page.objects.get(slug="terms")
    assert page.published is None
    assert client.get(reverse("content_page", args=["terms"])).status_code == 404
    client.post(reverse("content_staff:publish", args=["pages", page.pk]))
    assert "Be kind." in client.get(reverse("content_page", args=["terms"])).content.decode()


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("javascript:alert(1)", LINK_MESSAGE),
        ("//evil.example/", LINK_MESSAGE),
        ("data:text/html,hi", LINK_MESSAGE),
        ("https://exa mple.com", LINK_MESSAGE),
        ("/wallet/ offers", "A link may not contain spaces."),
    ],
)
def test_a_banner_link_must_be_ours_or_https(client, staff_with_role, link, message):
    client.force_login(staff_with_role("marketing"))
    data = {"text": "Hello", "link": link, "placement": "wallet_home", "starts_at": "2026-12-01T10:00"}

    response = client.post(reverse("content_staff:create", args=["banners"]), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Banner.objects.exists()


def test_a_banner_must_end_after_it_starts(client, staff_with_role):
    client.force_login(staff_with_role("marketing"))
    data = {"text": "Hello", "link": "", "placement": "wallet_home", "starts_at": "2026-12-02T10:00",
            "ends_at": "2026-12-01T10:00"}  # fmt: skip

    response = client.post(reverse("content_staff:create", args=["banners"]), data)

    assert response.status_code == 400
    assert "The end must come after the start." in response.content.decode()


def test_a_faq_draft_previews_inside_the_whole_faq(client, staff_with_role):
    client.force_login(staff_with_role("marketing"))
    data = {"question": "Can I pause my card?", "answer": "Yes, *any time*.", "category": "shoppers", "order": 1}

    client.post(reverse("content_staff:create", args=["faq"]), data)
    entry = FaqEntry.objects.get(question="Can I pause my card?")
    preview = client.get(reverse("content_staff:preview", args=["faq", entry.pk])).content.decode()

    assert "Can I pause my card?" in preview and "<em>any time</em>" in preview
    assert "Is it safe to link my card?" in preview  # the published entries around it
    assert "Can I pause my card?" not in client.get(reverse("faq")).content.decode()


def test_a_banner_preview_shows_the_banner(client, staff_with_role):
    client.force_login(staff_with_role("administrator"))
    start = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {"text": "Double cashback today", "link": "/wallet/offers/", "placement": "wallet_home", "starts_at": start}

    client.post(reverse("content_staff:create", args=["banners"]), data)
    banner = Banner.objects.get()
    preview = client.get(reverse("content_staff:preview", args=["banners", banner.pk])).content.decode()

    assert "Double cashback today" in preview and 'href="/wallet/offers/"' in preview


def test_unknown_kinds_items_and_versions_are_404(client, staff_with_role):
    client.force_login(staff_with_role("marketing"))
    page = _how_it_works()

    assert client.get(reverse("content_staff:create", args=["widgets"])).status_code == 404
    assert client.get(reverse("content_staff:edit", args=["pages", 999999])).status_code == 404
    assert client.get(reverse("content_staff:version", args=["pages", page.pk, 42])).status_code == 404
    assert client.post(reverse("content_staff:restore", args=["pages", page.pk, 42])).status_code == 404
