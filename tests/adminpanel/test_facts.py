"""The staff page of facts after commit (/staff/facts/): who may see it, what it lists, the retry button."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffAuditEntry
from cashback import events
from cashback.models import DeliveryStatus, Fact, FactDelivery
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("adminpanel:fact_list")
calls: list = []


def subscriber(**facts):
    calls.append(facts)


@pytest.fixture
def failed_delivery(monkeypatch):
    calls.clear()
    monkeypatch.setitem(events._subscribers, "offer_live", [])
    events.subscribe("offer_live", subscriber)
    fact = Fact.objects.create(kind="offer_live", payload={"offer_id": 5, "merchant_id": 6})
    return FactDelivery.objects.create(
        fact=fact,
        subscriber="tests.adminpanel.test_facts.subscriber",
        status=DeliveryStatus.FAILED,
        attempts=3,
        last_error="RuntimeError: referrals is down",
    )


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("role", [None, "marketing"])
def test_consumers_and_staff_without_the_permission_are_refused(client, staff_with_role, role, failed_delivery):
    client.force_login(staff_with_role(role) if role is not None else UserFactory())

    assert client.get(LIST).status_code == 403
    assert client.post(reverse("adminpanel:fact_retry", args=[failed_delivery.pk])).status_code == 403


def test_support_reads_the_failed_deliveries_with_their_error_but_may_not_retry(
    client, staff_with_role, failed_delivery
):
    client.force_login(staff_with_role("support"))

    response = client.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "tests.adminpanel.test_facts.subscriber" in page
    assert "referrals is down" in page
    assert "offer_live" in page
    assert "Retry now" not in page
    assert client.post(reverse("adminpanel:fact_retry", args=[failed_delivery.pk])).status_code == 403
    assert calls == []


@pytest.mark.parametrize("role", ["finance", "administrator"])
def test_finance_and_administrators_retry_a_failed_delivery(client, staff_with_role, role, failed_delivery):
    client.force_login(staff_with_role(role))
    assert "Retry now" in client.get(LIST).content.decode()

    response = client.post(reverse("adminpanel:fact_retry", args=[failed_delivery.pk]), follow=True)

    assert response.status_code == 200
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == DeliveryStatus.DONE
    assert calls == [{"offer_id": 5, "merchant_id": 6}]
    assert "handled the fact" in response.content.decode()
    assert "Retry now" not in response.content.decode()  # no longer listed


def test_a_retry_is_written_to_the_staff_audit_log(client, staff_with_role, failed_delivery):
    client.force_login(staff_with_role("finance"))

    client.post(reverse("adminpanel:fact_retry", args=[failed_delivery.pk]))

    entry = StaffAuditEntry.objects.get(action="fact.retry")
    assert (entry.target_type, entry.target_id) == ("cashback.factdelivery", str(failed_delivery.pk))
    assert (entry.before, entry.after) == ({"status": "failed"}, {"status": "done"})
    assert entry.actor_role == "finance"


def test_a_retry_of_a_done_delivery_writes_no_audit_entry(client, staff_with_role, failed_delivery):
    FactDelivery.objects.filter(pk=failed_delivery.pk).update(status=DeliveryStatus.DONE, done_at=timezone.now())
    client.force_login(staff_with_role("finance"))

    client.post(reverse("adminpanel:fact_retry", args=[failed_delivery.pk]))

    assert not StaffAuditEntry.objects.exists()
