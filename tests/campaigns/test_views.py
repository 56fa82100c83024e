"""Portal and staff pages: bad input gives clear form errors and saves nothing; the flows work end to end."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffAuditEntry
from campaigns.models import Challenge, LineItemRule, Offer, OfferStatus
from tests.accounts.factories import StaffUserFactory
from tests.campaigns.factories import (
    ChallengeFactory,
    LocationFactory,
    MembershipFactory,
    MerchantFactory,
    OfferFactory,
    PurchaseFactory,
)

pytestmark = pytest.mark.django_db


def local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def form_data(**overrides):
    start = timezone.now() + timedelta(days=1)
    data = {
        "title": "10 % on everything",
        "description": "",
        "reward_type": "percent",
        "percent": "10",
        "fixed_amount": "",
        "charity_ref": "",
        "currency": "NOK",
        "starts_at": local(start),
        "ends_at": local(start + timedelta(days=30)),
        "min_spend": "100",
        "max_reward_per_purchase": "50",
        "max_rewards_per_customer": "",
        "budget_total": "10000",
        "hour_from": "",
        "hour_to": "",
        "audience": "everyone",
        "return_period_days": "30",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def manager(client):
    membership = MembershipFactory(role="manager")
    client.force_login(membership.user)
    return membership


def test_create_saves_a_draft_in_minor_units(client, manager):
    location = LocationFactory(merchant=manager.merchant)
    data = form_data(days_of_week=["5", "6"], locations=[str(location.pk)], hour_from="17", hour_to="2")

    response = client.post(reverse("campaigns:create", args=[manager.merchant.pk]), data)

    offer = Offer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:detail", args=[manager.merchant.pk, offer.pk])
    assert offer.status == OfferStatus.DRAFT
    assert (offer.min_spend_minor, offer.max_reward_per_purchase_minor, offer.budget_total_minor) == (
        10_000,
        5_000,
        1_000_000,
    )
    assert offer.days_of_week == [5, 6]
    assert (offer.hour_from, offer.hour_to) == (17, 2)
    assert list(offer.locations.all()) == [location]
    assert offer.created_by == manager.user


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"ends_at": "2026-01-01T00:00", "starts_at": "2026-02-01T00:00"},
            "ends_at",
            "The end must be after the start.",
        ),
        ({"percent": "101"}, "percent", "less than or equal to 100"),
        ({"percent": "-5"}, "percent", "greater than or equal to 0"),
        ({"min_spend": "-1"}, "min_spend", "greater than or equal to 0"),
        ({"budget_total": "-100"}, "budget_total", "greater than or equal to 0"),
        ({"reward_type": "fixed", "fixed_amount": "-3"}, "fixed_amount", "greater than or equal to 0"),
        ({"max_reward_per_purchase": "-0.01"}, "max_reward_per_purchase", "greater than or equal to 0"),
        ({"reward_type": "fixed", "fixed_amount": ""}, "fixed_amount", "needs an amount above 0"),
        ({"audience": "tier"}, "min_tier", "Choose the lowest tier"),
        ({"title": ""}, "title", "This field is required."),
        ({"hour_from": "25"}, "hour_from", "less than or equal to 24"),
    ],
)
def test_bad_offer_input_shows_errors_beside_fields_and_saves_nothing(client, manager, overrides, field, message):
    response = client.post(reverse("campaigns:create", args=[manager.merchant.pk]), form_data(**overrides))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert any(message in error for error in errors[field]), errors[field]
    assert not Offer.objects.exists()


def test_another_merchants_location_is_not_a_choice(client, manager):
    other = LocationFactory()

    response = client.post(
        reverse("campaigns:create", args=[manager.merchant.pk]), form_data(locations=[str(other.pk)])
    )

    assert response.status_code == 400
    assert "locations" in response.context["form"].errors


def test_edit_form_carries_the_version_and_saves(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.DRAFT)
    url = reverse("campaigns:edit", args=[manager.merchant.pk, offer.pk])

    page = client.get(url)
    assert page.context["form"].initial["version"] == 1
    response = client.post(url, form_data(title="Renamed", version="1"))

    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.title, offer.version) == ("Renamed", 2)


def test_two_managers_editing_at_once_the_second_sees_a_conflict_and_loses_nothing(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.DRAFT, title="Original")
    url = reverse("campaigns:edit", args=[manager.merchant.pk, offer.pk])
    client.post(url, form_data(title="First manager's title", version="1"))

    response = client.post(url, form_data(title="Second manager's title", percent="20", version="1"))

    assert response.status_code == 400
    assert "Someone else changed this offer" in response.content.decode()
    offer.refresh_from_db()
    assert offer.title == "First manager's title"
    assert offer.percent == 10


def test_editing_a_live_offer_redirects_with_advice(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.LIVE)

    response = client.get(reverse("campaigns:edit", args=[manager.merchant.pk, offer.pk]), follow=True)

    assert "Pause the offer before editing it." in response.content.decode()


def test_challenge_without_an_offer_is_refused(client, manager):
    response = client.post(
        reverse("campaigns:challenge_create", args=[manager.merchant.pk]),
        {"offer": "", "title": "Big spender", "target_type": "revenue", "target_value": "1000", "bonus": "50"},
    )

    assert response.status_code == 400
    assert "offer" in response.context["form"].errors
    assert not Challenge.objects.exists()


def test_challenge_of_another_merchants_offer_is_refused(client, manager):
    other = OfferFactory()

    response = client.post(
        reverse("campaigns:challenge_create", args=[manager.merchant.pk]),
        {"offer": str(other.pk), "title": "x", "target_type": "revenue", "target_value": "1000", "bonus": "50"},
    )

    assert response.status_code == 400
    assert not Challenge.objects.exists()


def test_challenge_is_added_in_minor_units(client, manager):
    offer = OfferFactory(merchant=manager.merchant)

    response = client.post(
        reverse("campaigns:challenge_create", args=[manager.merchant.pk]),
        {
            "offer": str(offer.pk),
            "title": "Spend 1 000",
            "target_type": "revenue",
            "target_value": "1000",
            "bonus": "50",
        },
    )

    assert response.status_code == 302
    challenge = Challenge.objects.get()
    assert (challenge.offer, challenge.target_value, challenge.bonus_minor) == (offer, 100_000, 5_000)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"target_type": "purchase_count", "target_value": "2.5", "bonus": "10"}, "target_value"),
        ({"target_type": "revenue", "target_value": "-1", "bonus": "10"}, "target_value"),
        ({"target_type": "revenue", "target_value": "100", "bonus": "-10"}, "bonus"),
    ],
)
def test_bad_challenge_input(client, manager, data, field):
    offer = OfferFactory(merchant=manager.merchant)

    response = client.post(
        reverse("campaigns:challenge_create", args=[manager.merchant.pk]),
        {"offer": str(offer.pk), "title": "x", **data},
    )

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Challenge.objects.exists()


def test_line_item_rule_added_and_bad_percent_refused(client, manager):
    offer = OfferFactory(merchant=manager.merchant)
    url = reverse("campaigns:line_rule_create", args=[manager.merchant.pk, offer.pk])

    bad = client.post(url, {"scope": "category", "key": "coffee", "kind": "percent", "percent": "150"})
    good = client.post(url, {"scope": "category", "key": "coffee", "kind": "percent", "percent": "15"})

    assert bad.status_code == 400
    assert good.status_code == 302
    assert list(LineItemRule.objects.values_list("key", "percent")) == [("coffee", 15)]


def test_submit_then_staff_approve_then_it_is_live(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.DRAFT)
    client.post(reverse("campaigns:submit", args=[manager.merchant.pk, offer.pk]))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.IN_REVIEW

    staff = StaffUserFactory(mfa=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_offer", content_type__app_label="campaigns"))
    client.force_login(staff)
    queue = client.get(reverse("campaigns_staff:queue"))
    assert offer.title in queue.content.decode()
    response = client.post(reverse("campaigns_staff:decide", args=[offer.pk]), {"decision": "approve"})

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.LIVE


def test_staff_reject_needs_a_reason_which_the_merchant_sees(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.IN_REVIEW)
    staff = StaffUserFactory(mfa=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_offer", content_type__app_label="campaigns"))
    client.force_login(staff)
    url = reverse("campaigns_staff:decide", args=[offer.pk])

    assert client.post(url, {"decision": "reject", "reason": ""}).status_code == 400
    assert client.post(url, {"decision": "reject", "reason": "Title is misleading."}).status_code == 302

    client.force_login(manager.user)
    page = client.get(reverse("campaigns:detail", args=[manager.merchant.pk, offer.pk])).content.decode()
    assert "Title is misleading." in page


def test_pause_and_resume_and_duplicate_from_the_offer_page(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.LIVE)
    args = [manager.merchant.pk, offer.pk]

    client.post(reverse("campaigns:pause", args=args))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PAUSED
    client.post(reverse("campaigns:resume", args=args))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.LIVE
    response = client.post(reverse("campaigns:duplicate", args=args))
    copy = Offer.objects.exclude(pk=offer.pk).get()
    assert response["Location"] == reverse("campaigns:detail", args=[manager.merchant.pk, copy.pk])


def test_illegal_action_shows_a_message_not_an_error_page(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.ENDED)

    response = client.post(reverse("campaigns:pause", args=[manager.merchant.pk, offer.pk]), follow=True)

    assert response.status_code == 200
    assert "Only a live or scheduled offer can be paused." in response.content.decode()


def test_preview_shows_the_offer_as_a_consumer_reads_it(client, manager):
    offer = OfferFactory(merchant=manager.merchant, min_spend_minor=20_000, days_of_week=[0, 1, 2, 3, 4])
    ChallengeFactory(offer=offer, title="Spend 1 000 kr")

    page = client.get(reverse("campaigns:preview", args=[manager.merchant.pk, offer.pk])).content.decode()

    assert "10 % cashback" in page
    assert "When you spend at least 200 NOK." in page
    assert "On Monday to Friday." in page
    assert "Challenge: Spend 1 000 kr." in page


def test_cost_preview_fragment_without_history(client, manager):
    response = client.post(
        reverse("campaigns:cost_preview", args=[manager.merchant.pk]), form_data(), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "No history yet" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_cost_preview_fragment_with_history(client, manager):
    now = timezone.now()
    for days_ago in range(30):
        PurchaseFactory(merchant=manager.merchant, amount_minor=30_000, occurred_at=now - timedelta(days=days_ago))

    response = client.post(
        reverse("campaigns:cost_preview", args=[manager.merchant.pk]),
        form_data(min_spend="0", max_reward_per_purchase="", budget_total=""),
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    # 30 purchases x 3 NOK cashback over 30 days → 3 NOK a day → 91 312.5 øre a month, half to even.
    assert "913.12" in body
    assert "30 days" in body


def test_cost_preview_with_form_errors_asks_for_a_complete_offer(client, manager):
    response = client.post(
        reverse("campaigns:cost_preview", args=[manager.merchant.pk]), form_data(percent="200"), HTTP_HX_REQUEST="true"
    )

    assert "Complete the reward" in response.content.decode()


def test_cost_preview_without_javascript_is_a_page(client, manager):
    response = client.post(reverse("campaigns:cost_preview", args=[manager.merchant.pk]), form_data())

    assert "<html" in response.content.decode()
    assert "Estimated cost" in response.content.decode()


def test_offer_pages_have_no_inline_styles_or_scripts(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.DRAFT)
    urls = [
        reverse("campaigns:list", args=[manager.merchant.pk]),
        reverse("campaigns:create", args=[manager.merchant.pk]),
        reverse("campaigns:detail", args=[manager.merchant.pk, offer.pk]),
        reverse("campaigns:edit", args=[manager.merchant.pk, offer.pk]),
        reverse("campaigns:preview", args=[manager.merchant.pk, offer.pk]),
    ]
    for url in urls:
        body = client.get(url).content.decode()
        assert " style=" not in body, url
        assert "<script>" not in body, url


def test_list_filters_by_status_and_paginates(client, manager):
    for _ in range(3):
        OfferFactory(merchant=manager.merchant, status=OfferStatus.LIVE)
    OfferFactory(merchant=manager.merchant, status=OfferStatus.DRAFT, title="The draft")

    response = client.get(reverse("campaigns:list", args=[manager.merchant.pk]), {"status": "draft"})

    assert [offer.title for offer in response.context["page_obj"]] == ["The draft"]


def test_list_queries_do_not_grow_with_offers(client, manager, django_assert_max_num_queries):
    for _ in range(15):
        OfferFactory(merchant=manager.merchant)
    with django_assert_max_num_queries(12):
        client.get(reverse("campaigns:list", args=[manager.merchant.pk]))


def test_merchant_factory_is_approved():
    assert MerchantFactory().is_active_for_rewards


def test_cost_preview_needs_no_title_yet(client, manager):
    PurchaseFactory(merchant=manager.merchant, amount_minor=10_000, occurred_at=timezone.now())

    response = client.post(
        reverse("campaigns:cost_preview", args=[manager.merchant.pk]),
        form_data(title="", min_spend="0"),
        HTTP_HX_REQUEST="true",
    )

    assert "Per month, about" in response.content.decode()


def test_staff_decisions_are_written_to_the_staff_audit_log_and_refusals_are_not(client, manager):
    offer = OfferFactory(merchant=manager.merchant, status=OfferStatus.IN_REVIEW)
    staff = StaffUserFactory(mfa=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_offer", content_type__app_label="campaigns"))
    client.force_login(staff)
    url = reverse("campaigns_staff:decide", args=[offer.pk])

    assert client.post(url, {"decision": "reject", "reason": ""}).status_code == 400  # a domain error
    assert client.post(url, {"decision": "maybe"}).status_code == 400  # a bad form
    assert not StaffAuditEntry.objects.exists()
    client.post(url, {"decision": "reject", "reason": "Title is misleading."})

    entry = StaffAuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.target_type, entry.target_id) == (
        "offer.decide",
        staff,
        "campaigns.offer",
        str(offer.pk),
    )
    assert entry.before == {"status": OfferStatus.IN_REVIEW}
    assert entry.after == {"status": OfferStatus.DRAFT, "decision": "reject", "reason": "Title is misleading."}
