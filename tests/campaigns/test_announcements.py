"""Staff announcements at /staff/announcements/: audience preview, batches, consent only, roles, audit."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import Consent, StaffAuditEntry
from accounts.services import marketing_consent_set, staff_roles_sync
from campaigns.announcements import Segment, announcement_batch_send, announcement_send
from campaigns.models import Announcement, CustomerTier
from notifications.models import Notification
from tests.accounts.factories import ConsentFactory, StaffUserFactory, UserFactory
from tests.campaigns.factories import PurchaseFactory, TierFactory
from tests.merchants.factories import MerchantFactory

URL = "/staff/announcements/"


def _consenting(**fields):
    user = UserFactory(**fields)
    marketing_consent_set(user=user, granted=True)
    return user


@pytest.fixture
def staff():
    staff_roles_sync()

    def make(role):
        user = StaffUserFactory(mfa=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("marketing", 200), ("administrator", 200), ("support", 403), ("finance", 403)]
)
def test_only_marketing_and_administrators_open_the_page(client, staff, role, status):
    client.force_login(staff(role))
    assert client.get(URL).status_code == status


@pytest.mark.django_db
def test_the_segment_counts_only_people_who_consented_to_marketing():
    oslo = _consenting(city="Oslo")
    _consenting(city="Bergen")
    UserFactory(city="Oslo")  # never asked
    withdrawn = _consenting(city="Oslo")
    marketing_consent_set(user=withdrawn, granted=False)
    gold = TierFactory(rank=3, name="Gold")
    CustomerTier.objects.create(user=oslo, tier=gold, computed_at=oslo.created_at)
    shop = MerchantFactory()
    PurchaseFactory(user=oslo, merchant=shop)

    from campaigns.announcements import audience

    assert list(audience(segment=Segment(city="oslo"))) == [oslo]
    assert list(audience(segment=Segment(tier_id=gold.pk))) == [oslo]
    assert list(audience(segment=Segment(merchant_id=shop.pk))) == [oslo]
    assert audience(segment=Segment()).count() == 2


@pytest.mark.django_db
def test_preview_then_send_in_batches_with_progress_and_an_audit_entry(
    client, staff, django_capture_on_commit_callbacks
):
    marketer = staff("marketing")
    people = [_consenting(city="Oslo") for _ in range(5)]
    ConsentFactory(user=UserFactory(city="Oslo"), kind=Consent.Kind.MARKETING, granted=False)
    client.force_login(marketer)
    form = {"title": "Black week", "body": "Double cashback all week.", "city": "Oslo"}

    preview = client.post(URL, {**form, "preview": "1"})
    assert b"Audience: 5 people" in preview.content
    assert not Announcement.objects.exists()

    with django_capture_on_commit_callbacks(execute=False):
        sent = client.post(URL, {**form, "send": "1"})
    announcement = Announcement.objects.get()
    assert sent.status_code == 302 and announcement.audience_size == 5
    entry = StaffAuditEntry.objects.get(action="announcement.send")
    assert entry.actor == marketer and entry.after["audience_size"] == 5

    assert announcement_batch_send(announcement_id=announcement.pk, batch_size=2) == 2
    announcement.refresh_from_db()
    assert (announcement.sent_count, announcement.status) == (2, "sending")
    assert b"2 of 5 sent" in client.get(f"{URL}{announcement.pk}/").content
    announcement_batch_send(announcement_id=announcement.pk, batch_size=2)
    announcement_batch_send(announcement_id=announcement.pk, batch_size=2)
    assert announcement_batch_send(announcement_id=announcement.pk, batch_size=2) == 0
    announcement.refresh_from_db()
    assert (announcement.sent_count, announcement.status) == (5, "sent")
    told = set(Notification.objects.filter(kind="announcement").values_list("user_id", flat=True))
    assert told == {person.pk for person in people}


@pytest.mark.django_db(transaction=True)
def test_sending_runs_the_batches_after_commit():
    people = [_consenting() for _ in range(3)]

    announcement = announcement_send(actor=StaffUserFactory(mfa=True), title="Hi", body="News", segment=Segment())

    announcement.refresh_from_db()
    assert announcement.status == "sent" and announcement.sent_count == 3
    assert Notification.objects.filter(kind="announcement", user__in=people).count() == 3


@pytest.mark.django_db
def test_a_bad_form_is_an_error_not_a_send(client, staff):
    client.force_login(staff("marketing"))
    response = client.post(URL, {"title": "", "body": "x", "born_from": "abc", "send": "1"})
    assert response.status_code == 200 and not Announcement.objects.exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport_name", ["390", "1280"])
def test_the_announcements_page_in_a_browser(page_factory, live_server, staff, viewport_name):
    from django.conf import settings as django_settings
    from django.test import Client
    from playwright.sync_api import expect

    from tests.browser import DESKTOP, PHONE, screenshot

    for _ in range(3):
        _consenting(city="Oslo")
    page = page_factory(PHONE if viewport_name == "390" else DESKTOP)
    client = Client()
    client.force_login(staff("marketing"))
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )

    page.goto(URL)
    page.get_by_label("Title").fill("Black week")
    page.get_by_label("Body").fill("Double cashback all week.")
    page.get_by_label("City").fill("Oslo")
    page.get_by_role("button", name="Preview audience").click()
    expect(page.get_by_text("Audience: 3 people")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    screenshot(page, "staff-announcements")

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("3 of 3 sent")).to_be_visible()
