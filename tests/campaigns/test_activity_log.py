"""Every edit of an offer, a challenge or a line-item rule in the portal lands in the merchant's
activity log (F-P4): who, when, and each changed field as old → new in readable words."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from campaigns.models import OfferStatus
from merchants.models import AuditEvent
from tests.campaigns.factories import ChallengeFactory, LineItemRuleFactory, MembershipFactory, OfferFactory
from tests.campaigns.test_views import form_data

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def manager(client):
    membership = MembershipFactory(role="manager")
    client.force_login(membership.user)
    return membership


def only_event(merchant, action):
    events = list(AuditEvent.objects.filter(merchant=merchant, action=action))
    assert len(events) == 1, [e.action for e in AuditEvent.objects.filter(merchant=merchant)]
    return events[0]


def test_an_offer_edit_is_logged_with_old_and_new_values_in_words(client, manager):
    start = datetime(2027, 3, 1, 9, 0, tzinfo=OSLO)
    offer = OfferFactory(
        merchant=manager.merchant,
        status=OfferStatus.PAUSED,
        title="Coffee",
        percent=10,
        min_spend_minor=5_000,
        budget_total_minor=None,
        starts_at=start,
        ends_at=start + timedelta(days=30),
    )
    url = reverse("campaigns:edit", args=[manager.merchant.pk, offer.pk])
    response = client.post(
        url,
        form_data(
            title="Coffee and cake",
            description="Cashback on everything.",
            percent="12.5",
            min_spend="100",
            budget_total="2500",
            starts_at="2027-03-02T10:30",
            ends_at="2027-03-31T09:00",
            version="1",
        ),
    )
    assert response.status_code == 302

    event = only_event(manager.merchant, "offer.updated")
    assert event.actor == manager.user
    assert event.actor_label == manager.user.email
    changes = {change["field"]: (change["from"], change["to"]) for change in event.details["diff"]}
    assert changes["Title"] == ("Coffee", "Coffee and cake")
    assert changes["Percent"] == ("10.00 %", "12.50 %")
    assert changes["Minimum spend"] == ("50.00 NOK", "100.00 NOK")
    assert changes["Budget"] == ("unlimited", "2500.00 NOK")
    assert changes["Starts"] == ("1 Mar 2027 09:00", "2 Mar 2027 10:30")
    assert "Ends" not in changes  # the same end time: not listed
    assert "Description" not in changes  # unchanged fields are not listed
    assert event.details["note"] == "Back to draft: it needs review again."

    page = client.get(reverse("merchants:activity", args=[manager.merchant.pk])).content.decode()
    assert "Changed an offer" in page
    assert "Percent: 10.00 % → 12.50 %" in page
    assert "Budget: unlimited → 2500.00 NOK" in page


def test_a_refused_edit_logs_nothing(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.DRAFT)
    url = reverse("campaigns:edit", args=[manager.merchant.pk, offer.pk])
    client.post(url, form_data(title="Stale", version="7"))  # someone else saved since
    assert not AuditEvent.objects.filter(merchant=manager.merchant, action="offer.updated").exists()


def test_creating_submitting_pausing_and_resuming_are_logged(client, manager):
    merchant = manager.merchant
    response = client.post(reverse("campaigns:create", args=[merchant.pk]), form_data(title="New one"))
    assert response.status_code == 302
    assert only_event(merchant, "offer.created").details["name"] == "New one"
    offer = merchant.offers.get(title="New one")
    client.post(reverse("campaigns:submit", args=[merchant.pk, offer.pk]))
    only_event(merchant, "offer.submitted")

    live = OfferFactory(merchant=merchant, status=OfferStatus.LIVE, title="Running")
    client.post(reverse("campaigns:pause", args=[merchant.pk, live.pk]))
    client.post(reverse("campaigns:resume", args=[merchant.pk, live.pk]))
    assert only_event(merchant, "offer.paused").details["name"] == "Running"
    assert only_event(merchant, "offer.resumed").details["note"] == "Now live."


def test_challenge_edits_are_logged(client, manager):
    merchant = manager.merchant
    offer = OfferFactory(merchant=merchant, title="Monthly")
    client.post(
        reverse("campaigns:challenge_create", args=[merchant.pk]),
        {"offer": offer.pk, "title": "Spend 1 000", "target_type": "revenue", "target_value": "1000", "bonus": "50"},
    )
    created = only_event(merchant, "challenge.created")
    assert (created.details["name"], created.details["offer"]) == ("Spend 1 000", "Monthly")
    assert created.actor == manager.user

    challenge = offer.challenges.get()
    client.post(
        reverse("campaigns:challenge_edit", args=[merchant.pk, challenge.pk]),
        {"offer": offer.pk, "title": "Spend 1 000", "target_type": "revenue", "target_value": "1500", "bonus": "75"},
    )
    changes = {c["field"]: (c["from"], c["to"]) for c in only_event(merchant, "challenge.updated").details["diff"]}
    assert changes == {"Target value": ("1000.00 NOK", "1500.00 NOK"), "Bonus": ("50.00 NOK", "75.00 NOK")}

    client.post(reverse("campaigns:challenge_delete", args=[merchant.pk, challenge.pk]))
    assert only_event(merchant, "challenge.deleted").details["name"] == "Spend 1 000"


def test_line_rule_edits_are_logged(client, manager):
    merchant = manager.merchant
    offer = OfferFactory(merchant=merchant, title="Groceries")
    client.post(
        reverse("campaigns:line_rule_create", args=[merchant.pk, offer.pk]),
        {"scope": "category", "key": "coffee", "kind": "percent", "percent": "15"},
    )
    added = only_event(merchant, "line_rule.added")
    assert added.details == {"name": "category “coffee”: 15.00 %", "offer": "Groceries"}
    assert added.actor == manager.user

    rule = offer.line_item_rules.get()
    client.post(reverse("campaigns:line_rule_delete", args=[merchant.pk, offer.pk, rule.pk]))
    assert only_event(merchant, "line_rule.deleted").details["name"] == "category “coffee”: 15.00 %"


def test_analysts_change_nothing_and_so_log_nothing(client):
    analyst = MembershipFactory(role="analyst")
    client.force_login(analyst.user)
    offer = OfferFactory(merchant=analyst.merchant, status=OfferStatus.DRAFT)
    challenge = ChallengeFactory(offer=offer)
    rule = LineItemRuleFactory(offer=offer)
    merchant_id = analyst.merchant.pk
    edit = reverse("campaigns:edit", args=[merchant_id, offer.pk])
    assert client.post(edit, form_data(version="1")).status_code == 403
    assert client.post(reverse("campaigns:challenge_delete", args=[merchant_id, challenge.pk])).status_code == 403
    assert client.post(reverse("campaigns:line_rule_delete", args=[merchant_id, offer.pk, rule.pk])).status_code == 403
    assert not AuditEvent.objects.filter(merchant=analyst.merchant).exists()
