"""The staff panel's People pages: search, a person's support page, block and unblock, the audit log."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffAuditEntry
from accounts.staff_audit import record_staff_action
from adminpanel import support_sections
from tests.accounts.factories import CardFactory, ConsentFactory, UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event, fund_merchant
from tests.referrals.factories import ReferralCodeFactory

pytestmark = pytest.mark.django_db

USERS = reverse("adminpanel:user_list")


def _names(response) -> list[str]:
    return [person.email for person in response.context["page_obj"].object_list]


@pytest.fixture
def support(client, staff_with_role):
    user = staff_with_role("support")
    client.force_login(user)
    return user


# --- Search --------------------------------------------------------------------------------------


def test_people_are_found_by_name_email_phone_card_and_referral_code(client, support):
    anna = UserFactory(email="anna@example.com", full_name="Anna Berg", phone="+4791234567")
    other = UserFactory(email="ole@example.com", full_name="Ole Dahl")
    card = CardFactory(user=other)
    ReferralCodeFactory(user=anna, code="ANNA2024")

    assert _names(client.get(USERS, {"q": "berg"})) == ["anna@example.com"]
    assert _names(client.get(USERS, {"q": "OLE@EXAMPLE"})) == ["ole@example.com"]
    assert _names(client.get(USERS, {"q": "912 34 567"})) == ["anna@example.com"]
    assert _names(client.get(USERS, {"q": card.last_four})) == ["ole@example.com"]
    assert _names(client.get(USERS, {"q": "anna2024"})) == ["anna@example.com"]


def test_the_search_has_an_empty_state_and_pages(client, support):
    UserFactory.create_batch(30)

    empty = client.get(USERS, {"q": "nobody-like-this"})
    assert empty.status_code == 200 and b"Nobody matches" in empty.content

    first = client.get(USERS)
    assert len(first.context["page_obj"].object_list) == 25
    assert client.get(USERS, {"page": 2}).context["page_obj"].number == 2


# --- The support page ----------------------------------------------------------------------------


def test_the_support_page_shows_each_section_and_is_audited(client, support):
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 100_000)
    person = UserFactory(full_name="Kari Nordmann")
    ConsentFactory(user=person)
    card = CardFactory(user=person)
    event(user=person, merchant=offer.merchant, kind="auth", amount=20_000)

    response = client.get(reverse("adminpanel:user_detail", args=[person.pk]))

    assert response.status_code == 200
    keys = [item["section"].key for item in response.context["sections"]]
    assert keys == [
        "profile",
        "consents",
        "cards",
        "wallet",
        "purchases",
        "payouts",
        "donations",
        "referrals",
        "notifications",
        "fraud_flags",
    ]
    body = response.content.decode()
    assert card.masked_number in body and card.first_six not in body.replace(card.masked_number, "")
    assert offer.merchant.display_name in body and "200.00" in body
    entry = StaffAuditEntry.objects.get(action="user.view_support")
    assert (entry.actor, entry.target_id) == (support, str(person.pk))


def test_section_keys_are_unique():
    keys = [section.key for section in support_sections.SECTIONS]
    assert len(keys) == len(set(keys))


def test_a_role_sees_only_the_sections_it_may(client, staff_with_role):
    client.force_login(staff_with_role("marketing"))

    response = client.get(reverse("adminpanel:user_detail", args=[UserFactory().pk]))

    assert [item["section"].key for item in response.context["sections"]] == ["profile", "purchases", "referrals"]


def test_an_unknown_person_is_404(client, support):
    assert client.get(reverse("adminpanel:user_detail", args=[999999])).status_code == 404


# --- Block and unblock -----------------------------------------------------------------------------


def test_finance_blocks_and_unblocks_with_a_reason(client, staff_with_role):
    finance = staff_with_role("finance")
    client.force_login(finance)
    person = UserFactory()

    response = client.post(reverse("adminpanel:user_block", args=[person.pk]), {"reason": "Refund cycling"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.blocked_reason == "Refund cycling"
    assert b"Blocked since" in client.get(response.url).content

    client.post(reverse("adminpanel:user_unblock", args=[person.pk]), {"reason": "Resolved"})
    person.refresh_from_db()
    assert person.blocked_at is None
    assert list(StaffAuditEntry.objects.filter(actor=finance).values_list("action", flat=True)) == [
        "user.unblock",
        "user.view_support",
        "user.block",
    ]


def test_a_block_without_a_reason_is_a_form_error_and_changes_nothing(client, staff_with_role):
    client.force_login(staff_with_role("finance"))
    person = UserFactory()

    response = client.post(reverse("adminpanel:user_block", args=[person.pk]), {"reason": ""})

    assert response.status_code == 400 and b"This field is required" in response.content
    person.refresh_from_db()
    assert person.blocked_at is None


def test_unblocking_someone_not_blocked_is_a_clear_409(client, staff_with_role):
    client.force_login(staff_with_role("finance"))

    response = client.post(reverse("adminpanel:user_unblock", args=[UserFactory().pk]), {"reason": "x"})

    assert response.status_code == 409 and b"not blocked" in response.content


def test_support_may_not_block(client, support):
    person = UserFactory()

    assert client.post(reverse("adminpanel:user_block", args=[person.pk]), {"reason": "x"}).status_code == 403
    person.refresh_from_db()
    assert person.blocked_at is None


# --- The audit log ---------------------------------------------------------------------------------


def test_the_audit_log_is_searched_by_actor_action_target_and_dates(client, staff_with_role):
    admin = staff_with_role("administrator")
    other = staff_with_role("finance")
    person = UserFactory()
    record_staff_action(actor=other, action="user.block", target=person, summary="Blocked")
    record_staff_action(actor=admin, action="payout.retry", target_type="wallet.payout", target_id=7)
    client.force_login(admin)
    url = reverse("adminpanel:audit_list")

    def actions(**query):
        response = client.get(url, query)
        assert response.status_code == 200
        return [entry.action for entry in response.context["page_obj"].object_list]

    assert actions(actor=other.email) == ["user.block"]
    assert actions(action="payout.") == ["payout.retry"]
    assert actions(target=f"accounts.user:{person.pk}") == ["user.block"]
    today = timezone.localdate()
    assert len(actions(date_from=today, date_to=today)) == 2
    assert actions(date_from=today + timedelta(days=1)) == []
    assert client.get(url, {"date_from": today, "date_to": today - timedelta(days=1)}).status_code == 400


def test_administrators_export_the_audit_log_as_csv_and_others_may_not(client, staff_with_role):
    admin = staff_with_role("administrator")
    person = UserFactory()
    record_staff_action(actor=admin, action="user.block", target=person, after={"blocked": True})
    client.force_login(admin)

    response = client.get(reverse("adminpanel:audit_export"), {"action": "user."})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["id", "created_at", "actor_id", "actor_role", "action"]
    assert [row[4] for row in rows[1:]] == ["user.block"]
    assert StaffAuditEntry.objects.filter(action="audit.export", actor=admin).exists()

    client.force_login(staff_with_role("support"))
    assert client.get(reverse("adminpanel:audit_export")).status_code == 403
