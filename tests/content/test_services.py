"""Drafts, publishing, history and restoring, through content.services; history is append-only."""

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import StaffAuditEntry
from content import selectors, services
from content.errors import NothingToPublishError, VersionNotFoundError
from content.kinds import FAQ, PAGES
from content.models import FaqEntry, Page, PageVersion
from tests.accounts.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def _page(actor, body="First text"):
    values = {"slug": "about", "title": "About", "summary": "", "body": body}
    return services.content_create(kind=PAGES, values=values, actor=actor)


def test_a_new_page_is_a_draft_that_the_public_cannot_see():
    actor = StaffUserFactory()

    _page(actor)

    with pytest.raises(selectors.PageNotPublishedError):
        selectors.page_published(slug="about")
    entry = StaffAuditEntry.objects.get(action="content.create")
    assert entry.actor == actor and entry.after["body"] == "First text"


def test_publishing_makes_numbered_versions_and_the_public_sees_the_latest():
    actor = StaffUserFactory()
    page = _page(actor)

    services.content_publish(item=page, actor=actor)
    services.content_draft_save(item=page, values={"title": "About", "summary": "", "body": "Second"}, actor=actor)
    assert selectors.page_published(slug="about").body == "First text"  # the draft is not public yet
    second = services.content_publish(item=page, actor=actor)

    assert second.number == 2 and second.published_by == actor
    assert selectors.page_published(slug="about").body == "Second"
    assert [v.number for v in selectors.content_history(item=page)] == [2, 1]
    publish = StaffAuditEntry.objects.filter(action="content.publish").first()
    assert publish.before == {"version": 1} and publish.after["version"] == 2


def test_publishing_an_unchanged_draft_is_refused_and_writes_nothing():
    actor = StaffUserFactory()
    page = _page(actor)
    services.content_publish(item=page, actor=actor)

    with pytest.raises(NothingToPublishError):
        services.content_publish(item=page, actor=actor)

    assert PageVersion.objects.filter(item=page).count() == 1
    assert StaffAuditEntry.objects.filter(action="content.publish").count() == 1


def test_restoring_copies_an_old_version_into_the_draft_only():
    actor = StaffUserFactory()
    page = _page(actor)
    services.content_publish(item=page, actor=actor)
    services.content_draft_save(item=page, values={"title": "About", "summary": "", "body": "Second"}, actor=actor)
    services.content_publish(item=page, actor=actor)

    restored = services.content_restore(item=page, number=1, actor=actor)

    assert restored.body == "First text"
    assert selectors.page_published(slug="about").body == "Second"
    assert selectors.item_status(restored) == ("changed", "Changes pending")
    entry = StaffAuditEntry.objects.get(action="content.restore")
    assert entry.before["body"] == "Second" and entry.after["body"] == "First text"
    with pytest.raises(VersionNotFoundError):
        services.content_restore(item=page, number=9, actor=actor)


def test_an_edit_records_only_what_changed():
    actor = StaffUserFactory()
    entry = services.content_create(
        kind=FAQ, values={"question": "Q?", "answer": "A.", "category": "money", "order": 5}, actor=actor
    )

    services.content_draft_save(
        item=entry, values={"question": "Q?", "answer": "Better.", "category": "money", "order": 5}, actor=actor
    )

    audit = StaffAuditEntry.objects.get(action="content.edit")
    assert audit.before == {"answer": "A."} and audit.after == {"answer": "Better."}
    assert audit.target_type == "content.faqentry" and audit.target_id == str(entry.pk)


def test_withdrawing_takes_an_item_off_the_site_and_publishing_brings_it_back():
    actor = StaffUserFactory()
    page = _page(actor)
    services.content_publish(item=page, actor=actor)

    services.content_withdraw(item=page, actor=actor)
    with pytest.raises(selectors.PageNotPublishedError):
        selectors.page_published(slug="about")
    services.content_publish(item=page, actor=actor)

    assert selectors.page_published(slug="about").number == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_published_versions_cannot_be_changed_or_deleted_in_the_database():
    actor = StaffUserFactory()
    page = _page(actor)
    version = services.content_publish(item=page, actor=actor)

    with pytest.raises(IntegrityError), transaction.atomic():
        PageVersion.objects.filter(pk=version.pk).update(body="rewritten history")
    with pytest.raises(IntegrityError), transaction.atomic():
        PageVersion.objects.filter(pk=version.pk).delete()
    assert PageVersion.objects.get(pk=version.pk).body == "First text"


def test_the_old_faq_and_how_it_works_text_is_seeded_as_published_content():
    assert selectors.page_published(slug="how-it-works").title == "How it works"
    questions = [entry.question for entry in selectors.faq_published()]
    assert len(questions) == 18 and "Is it safe to link my card?" in questions
    assert FaqEntry.objects.filter(published__isnull=True).count() == 0


def test_the_demo_content_has_history_pending_changes_a_draft_and_live_banners_and_seeds_once():
    from content.demo import DEMO_ADMIN_EMAIL, seed_demo_content

    StaffUserFactory(email=DEMO_ADMIN_EMAIL, is_superuser=True)

    assert seed_demo_content()
    assert seed_demo_content() == []

    about = Page.objects.get(slug="about-us")
    assert [v.number for v in selectors.content_history(item=about)] == [2, 1]
    assert selectors.item_status(Page.objects.get(slug="terms"))[0] == "changed"
    assert FaqEntry.objects.get(question="Can I earn cashback abroad?").published is None
    assert selectors.banners_live(placement="wallet_home") and selectors.banners_live(placement="public_pages")
