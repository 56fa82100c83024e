"""The staff inbox page: who may see it, what it lists, and the retry button."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffAuditEntry
from cashback.inbox import Unmatched
from cashback.models import WebhookEvent
from tests.accounts.factories import UserFactory
from tests.webhooks import load_payload, visa_event

pytestmark = pytest.mark.django_db

LIST = reverse("inbox:staff_list")


def event(event_id: str, *, status: str, source: str = "visa", **fields) -> WebhookEvent:
    payload = visa_event(id=event_id) if source == "visa" else load_payload("stripe_charge_succeeded")
    return WebhookEvent.objects.create(
        source=source,
        event_id=event_id,
        event_type="transaction.auth" if source == "visa" else "charge.succeeded",
        payload=payload,
        status=status,
        **fields,
    )


@pytest.fixture
def inbox_admin(client, staff_with_role):
    client.force_login(staff_with_role("administrator"))
    return client


# --- Who may see it ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_consumers_are_refused(client):
    client.force_login(UserFactory())

    assert client.get(LIST).status_code == 403


@pytest.mark.parametrize("role", [None, "marketing"])
def test_staff_without_the_inbox_permission_are_refused(client, staff_with_role, role):
    item = event("evt_1", status="failed")
    client.force_login(staff_with_role(role))

    assert client.get(LIST).status_code == 403
    assert client.get(reverse("inbox:staff_detail", args=[item.pk])).status_code == 403
    assert client.post(reverse("inbox:staff_retry", args=[item.pk])).status_code == 403


def test_support_reads_the_inbox_and_finance_retries(client, staff_with_role):
    item = event("evt_1", status="failed")

    client.force_login(staff_with_role("support"))
    assert client.get(LIST).status_code == 200
    assert client.post(reverse("inbox:staff_retry", args=[item.pk])).status_code == 403

    client.force_login(staff_with_role("finance"))
    assert client.get(reverse("inbox:staff_detail", args=[item.pk])).status_code == 200
    assert client.post(reverse("inbox:staff_retry", args=[item.pk])).status_code in (302, 303)


def test_staff_who_may_view_but_not_change_cannot_retry(client, staff_with_role):
    from django.contrib.auth.models import Permission

    item = event("evt_1", status="failed")
    user = staff_with_role(None)
    user.user_permissions.add(Permission.objects.get(codename="view_webhookevent"))
    client.force_login(user)

    assert client.get(reverse("inbox:staff_detail", args=[item.pk])).status_code == 200
    assert client.post(reverse("inbox:staff_retry", args=[item.pk])).status_code == 403
    item.refresh_from_db()
    assert item.attempts == 0


# --- What it shows -------------------------------------------------------------------------------------


def test_the_list_shows_unmatched_and_failed_events_by_default(inbox_admin):
    event("evt_unmatched", status="unmatched", unmatched_reason="no card with token ctok_x")
    event("evt_failed", status="failed")
    event("evt_processed", status="processed")
    event("evt_ignored", status="ignored", source="stripe")

    page = inbox_admin.get(LIST).content.decode()

    assert "evt_unmatched" in page and "no card with token ctok_x" in page
    assert "evt_failed" in page
    assert "evt_processed" not in page and "evt_ignored" not in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"status": "processed"}, "evt_processed", "evt_failed"),
        ({"source": "stripe"}, "evt_stripe", "evt_failed"),
        ({"q": "evt_fa"}, "evt_failed", "evt_stripe"),
    ],
)
def test_the_list_filters(inbox_admin, query, shown, hidden):
    event("evt_failed", status="failed")
    event("evt_stripe", status="unmatched", source="stripe")
    event("evt_processed", status="processed")

    page = inbox_admin.get(LIST, query).content.decode()

    assert shown in page and hidden not in page


def test_the_list_is_paginated_and_its_queries_do_not_grow_with_rows(inbox_admin, django_assert_max_num_queries):
    for n in range(30):
        event(f"evt_{n:02d}", status="unmatched")

    with django_assert_max_num_queries(12):
        first = inbox_admin.get(LIST)
    second = inbox_admin.get(LIST, {"page": 2})

    assert first.context["page_obj"].paginator.count == 30
    assert len(first.context["page_obj"].object_list) == 25
    assert len(second.context["page_obj"].object_list) == 5


def test_the_detail_shows_the_payload_pretty_printed_and_the_error(inbox_admin):
    item = event("evt_failed", status="failed", last_error="Traceback ...\nKeyError: 'amount'")

    page = inbox_admin.get(reverse("inbox:staff_detail", args=[item.pk])).content.decode()

    assert "  &quot;type&quot;: &quot;transaction.auth&quot;" in page  # indented JSON, escaped
    assert "KeyError: &#x27;amount&#x27;" in page
    assert "Retry now" in page


def test_a_processed_event_has_no_retry_button(inbox_admin):
    item = event("evt_done", status="processed")

    assert "Retry now" not in inbox_admin.get(reverse("inbox:staff_detail", args=[item.pk])).content.decode()


def test_the_staff_navigation_links_the_inbox_for_those_who_may_see_it(inbox_admin):
    assert LIST in inbox_admin.get(reverse("adminpanel:index")).content.decode()


# --- The retry button -------------------------------------------------------------------------------


def test_retry_processes_the_event_now(inbox_admin, handlers):
    handler = handlers.add("visa", "transaction.auth")
    item = event("evt_parked", status="unmatched", attempts=1, unmatched_reason="unknown card")

    response = inbox_admin.post(reverse("inbox:staff_retry", args=[item.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("inbox:staff_detail", args=[item.pk])
    assert "The event was processed." in response.content.decode()
    item.refresh_from_db()
    assert (item.status, item.attempts, item.unmatched_reason) == ("processed", 2, "")
    assert handler.calls == [item.pk]


def test_retry_that_is_still_unmatched_says_so(inbox_admin, handlers):
    handlers.add("visa", "transaction.auth").raises = Unmatched("still no card")
    item = event("evt_parked", status="unmatched")

    response = inbox_admin.post(reverse("inbox:staff_retry", args=[item.pk]), follow=True)

    assert "The event is now unmatched." in response.content.decode()
    item.refresh_from_db()
    assert item.unmatched_reason == "still no card"


def test_retry_of_a_processed_event_does_nothing(inbox_admin, handlers):
    handler = handlers.add("visa", "transaction.auth")
    item = event("evt_done", status="processed", attempts=1)

    inbox_admin.post(reverse("inbox:staff_retry", args=[item.pk]))

    item.refresh_from_db()
    assert (item.status, item.attempts, handler.calls) == ("processed", 1, [])


def test_retry_needs_post(inbox_admin):
    item = event("evt_failed", status="failed")

    assert inbox_admin.get(reverse("inbox:staff_retry", args=[item.pk])).status_code == 405


# --- The staff audit log (F-X7) ------------------------------------------------------------------


def test_retry_is_written_to_the_staff_audit_log(inbox_admin, handlers):
    handlers.add("visa", "transaction.auth")
    item = event("evt_parked", status="unmatched", attempts=1, unmatched_reason="unknown card")

    inbox_admin.post(reverse("inbox:staff_retry", args=[item.pk]))

    entry = StaffAuditEntry.objects.get(action="webhook.retry")
    assert (entry.target_type, entry.target_id) == ("cashback.webhookevent", str(item.pk))
    assert entry.actor_role == "administrator"
    assert (entry.before, entry.after) == ({"status": "unmatched"}, {"status": "processed"})


def test_a_refused_retry_writes_no_audit_entry(inbox_admin, handlers):
    handler = handlers.add("visa", "transaction.auth")
    item = event("evt_reduced", status="failed", payload_reduced_at=timezone.now())
    done = event("evt_done", status="processed")

    inbox_admin.post(reverse("inbox:staff_retry", args=[item.pk]))
    inbox_admin.post(reverse("inbox:staff_retry", args=[done.pk]))

    assert handler.calls == []
    assert not StaffAuditEntry.objects.filter(action="webhook.retry").exists()
