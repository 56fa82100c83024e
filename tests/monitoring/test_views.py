"""/staff/monitoring/: the purchase search with its flags, the flag pages and the decisions, per role."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import StaffAuditEntry
from monitoring import services
from monitoring.models import FraudFlag
from tests.accounts.factories import CardFactory, UserFactory
from tests.campaigns.factories import MerchantFactory

from .helpers import card_purchase

pytestmark = pytest.mark.django_db

ROLES = ["support", "marketing", "finance", "administrator"]


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def flagged():
    card = CardFactory(last_four="4242")
    merchant = MerchantFactory(display_name="Fjord Coffee")
    at = timezone.now() - timedelta(hours=1)
    card_purchase(card=card, merchant=merchant, amount=9_900, at=at)
    second = card_purchase(card=card, merchant=merchant, amount=9_900, at=at + timedelta(minutes=2))
    card_purchase(
        card=CardFactory(last_four="1111"), merchant=MerchantFactory(display_name="Other Shop"), amount=55_000
    )
    services.purchase_check(purchase_id=second.pk)
    return FraudFlag.objects.get()


@pytest.mark.parametrize(
    ("role", "page", "hold", "clear"),
    [
        ("support", 200, 302, 403),
        ("marketing", 403, 403, 403),
        ("finance", 200, 302, 302),
        ("administrator", 200, 302, 302),
    ],
)
def test_who_may_see_and_decide(staff_with_role, flagged, role, page, hold, clear):
    staff = staff_with_role(role)
    if role == "administrator":
        staff.is_superuser = True
        staff.save()
    client = client_for(staff)
    for url in ("/staff/monitoring/", "/staff/monitoring/flags/", f"/staff/monitoring/flags/{flagged.pk}/"):
        assert client.get(url).status_code == page, url
    assert client.post(f"/staff/monitoring/flags/{flagged.pk}/hold/", {"reason": "Check"}).status_code == hold
    assert client.post(f"/staff/monitoring/flags/{flagged.pk}/clear/", {"reason": "Fine"}).status_code == clear


def test_consumers_merchants_and_visitors_are_kept_out(flagged):
    assert client_for(UserFactory()).get("/staff/monitoring/").status_code == 403
    response = client_for(None).get("/staff/monitoring/")
    assert response.status_code == 302 and "/login" in response["Location"]
    assert (
        client_for(UserFactory()).post(f"/staff/monitoring/flags/{flagged.pk}/escalate/", {"reason": "x"}).status_code
        == 403
    )


def test_the_search_finds_by_card_merchant_amount_status_and_date_and_shows_the_flags(staff_with_role, flagged):
    client = client_for(staff_with_role("support"))

    page = client.get("/staff/monitoring/").content.decode()
    assert page.count("<tr>") == 4  # header and three purchases
    assert "Near-duplicate purchases · Open" in page

    by_card = client.get("/staff/monitoring/", {"card_last_four": "4242"}).content.decode()
    assert by_card.count("Fjord Coffee") == 2 and "Other Shop" not in by_card
    by_merchant = client.get("/staff/monitoring/", {"merchant": "other"}).content.decode()
    assert "Other Shop" in by_merchant and "Fjord Coffee" not in by_merchant
    by_amount = client.get("/staff/monitoring/", {"amount_min": "100", "amount_max": "600"}).content.decode()
    assert "Other Shop" in by_amount and "Fjord Coffee" not in by_amount
    flagged_only = client.get("/staff/monitoring/", {"flagged_only": "on"}).content.decode()
    assert flagged_only.count("<tr>") == 2
    assert client.get("/staff/monitoring/", {"status": "refunded"}).content.decode().count("<tr>") == 0
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert client.get("/staff/monitoring/", {"date_from": tomorrow}).content.decode().count("<tr>") == 0


@pytest.mark.parametrize(
    "query",
    [
        {"card_last_four": "42"},
        {"amount_min": "abc"},
        {"amount_min": "-5"},
        {"amount_min": "10", "amount_max": "5"},
        {"date_from": "2026-13-01"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"status": "stolen"},
        {"page": "9999"},
    ],
)
def test_bad_search_input_is_a_form_error_never_a_500(staff_with_role, flagged, query):
    response = client_for(staff_with_role("support")).get("/staff/monitoring/", query)
    assert response.status_code == 200
    if "page" not in query:
        assert 'class="errorlist' in response.content.decode()


def test_a_full_card_number_in_the_search_is_refused_at_the_door(staff_with_role, flagged):
    response = client_for(staff_with_role("support")).get("/staff/monitoring/", {"card_last_four": "4242424242424242"})
    assert response.status_code == 400


def test_a_decision_needs_a_reason_and_is_audited(staff_with_role, flagged):
    client = client_for(staff_with_role("finance"))
    response = client.post(f"/staff/monitoring/flags/{flagged.pk}/hold/", {"reason": ""})
    assert response.status_code == 400
    flagged.refresh_from_db()
    assert flagged.status == "open" and not StaffAuditEntry.objects.exists()

    client.post(f"/staff/monitoring/flags/{flagged.pk}/escalate/", {"reason": "Card testing"})
    flagged.refresh_from_db()
    assert flagged.status == "escalated"
    assert sorted(StaffAuditEntry.objects.values_list("action", flat=True)) == ["flag.escalate", "user.block"]

    again = client.post(f"/staff/monitoring/flags/{flagged.pk}/clear/", {"reason": "Oops"}, follow=True)
    assert "cannot be done now" in again.content.decode()


def test_unknown_flags_are_404(staff_with_role):
    client = client_for(staff_with_role("finance"))
    assert client.get("/staff/monitoring/flags/999999/").status_code == 404
    assert client.post("/staff/monitoring/flags/999999/hold/", {"reason": "x"}).status_code == 404
    assert client.get("/staff/monitoring/flags/", {"status": "nonsense", "rule": "nonsense"}).status_code == 200


def test_the_persons_support_section_lists_their_flags(staff_with_role, flagged):
    from django.template.loader import render_to_string

    from adminpanel.support_sections import SECTIONS, sections_for

    section = next(s for s in SECTIONS if s.key == "fraud_flags")
    assert section in sections_for(viewer=staff_with_role("support"))
    assert section not in sections_for(viewer=staff_with_role("marketing"))
    # The support page includes each section with its context as ``data`` (adminpanel/user_detail.html).
    html = render_to_string(section.template, {"data": section.context(flagged.user)})
    assert "Near-duplicate purchases" in html and "1 open or held flag." in html
    assert "No fraud flags" in render_to_string(section.template, {"data": section.context(UserFactory())})


def test_the_search_page_costs_the_same_few_queries_for_any_number_of_purchases(
    staff_with_role, flagged, django_assert_max_num_queries
):
    client = client_for(staff_with_role("support"))
    client.get("/staff/monitoring/")  # warm the session and permission caches
    card = CardFactory()
    for n in range(10):
        card_purchase(card=card, merchant=MerchantFactory(), amount=1_000 + n)
    with django_assert_max_num_queries(12):
        assert client.get("/staff/monitoring/").status_code == 200
