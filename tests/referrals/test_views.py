"""The consumer's page and the staff pages (review queue, programme editor, permissions)."""

import pytest
from django.urls import reverse

from accounts.models import StaffAuditEntry
from referrals import services
from referrals.models import ReferralProgram, ReferralStatus
from tests.accounts.factories import UserFactory
from tests.referrals.factories import qualify_and_mature, refer
from tests.referrals.ledger import bonus_credits

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(program):
    referrer = UserFactory()
    refer(referrer, ip="198.51.100.10")
    referral = qualify_and_mature(refer(referrer, ip="198.51.100.11"))
    assert referral.status == ReferralStatus.HELD
    return referral


# --- Consumer page -----------------------------------------------------------------------------------------


def test_wallet_page_needs_a_login(client):
    response = client.get(reverse("referrals:wallet"))
    assert response.status_code == 302


def test_wallet_page_shows_code_link_friends_statuses_and_earnings(client, program):
    referrer = UserFactory()
    qualify_and_mature(refer(referrer, UserFactory(full_name="Grace Hopper")))
    refer(referrer, UserFactory(full_name="Linus"))
    client.force_login(referrer)

    response = client.get(reverse("referrals:wallet"))

    html = response.content.decode()
    code = services.referral_code_for(user=referrer).code
    assert response.status_code == 200
    assert code in html and f"/r/{code}/" in html and f"/partners/?ref={code}" in html
    assert "Grace H." in html and "Bonus paid" in html
    assert "Linus" in html and "Waiting for a first purchase" in html
    assert "50.00" in html
    assert "hopper" not in html.lower().replace("grace h.", "")  # no full names or addresses of friends


def test_wallet_page_queries_do_not_grow_with_referrals(client, program, django_assert_max_num_queries):
    referrer = UserFactory()
    for _ in range(3):
        refer(referrer)
    client.force_login(referrer)
    client.get(reverse("referrals:wallet"))  # creates the code and the device sighting

    with django_assert_max_num_queries(25) as few:
        client.get(reverse("referrals:wallet"))
    for _ in range(10):
        refer(referrer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("referrals:wallet"))


# --- Staff: permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("marketing", 200), ("administrator", 200), ("support", 403), ("finance", 403)]
)
def test_staff_pages_are_for_marketing_and_administrators(client, staff_with_role, held, role, status):
    client.force_login(staff_with_role(role))

    for url in (
        reverse("referrals_staff:queue"),
        reverse("referrals_staff:review", kwargs={"referral_id": held.pk}),
        reverse("referrals_staff:program"),
    ):
        assert client.get(url).status_code == status, url


def test_consumers_cannot_decide(client, held):
    client.force_login(held.referrer)

    response = client.post(reverse("referrals_staff:decide", kwargs={"referral_id": held.pk}), {"decision": "approve"})

    assert response.status_code == 403
    held.refresh_from_db()
    assert held.status == ReferralStatus.HELD


# --- Staff: review queue -------------------------------------------------------------------------------------


def test_queue_lists_held_referrals_and_approval_pays(client, staff_with_role, held):
    client.force_login(staff_with_role("marketing"))

    queue = client.get(reverse("referrals_staff:queue")).content.decode()
    assert f"#{held.pk}" in queue
    detail = client.get(reverse("referrals_staff:review", kwargs={"referral_id": held.pk})).content.decode()
    assert "198.51.100.0/24" in detail and "same person signed up from this network" in detail

    response = client.post(reverse("referrals_staff:decide", kwargs={"referral_id": held.pk}), {"decision": "approve"})

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == ReferralStatus.PAID
    assert bonus_credits(held.friend) == 5000


def test_rejection_without_reason_is_a_form_error(client, staff_with_role, held):
    client.force_login(staff_with_role("marketing"))
    url = reverse("referrals_staff:decide", kwargs={"referral_id": held.pk})

    response = client.post(url, {"decision": "reject", "reason": ""})
    assert response.status_code == 400
    assert "Say why" in response.content.decode()

    response = client.post(url, {"decision": "reject", "reason": "Same flat, same phone"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == ReferralStatus.REJECTED


def test_deciding_twice_is_a_409_and_changes_nothing(client, staff_with_role, held):
    client.force_login(staff_with_role("marketing"))
    url = reverse("referrals_staff:decide", kwargs={"referral_id": held.pk})
    client.post(url, {"decision": "approve"})

    response = client.post(url, {"decision": "reject", "reason": "too late"})

    assert response.status_code == 409
    held.refresh_from_db()
    assert held.status == ReferralStatus.PAID


# --- Staff: programme editor -----------------------------------------------------------------------------------


def program_post(version: int, **overrides) -> dict:
    data = {
        "based_on_version": version,
        "qualification_window_days": 45,
        "monthly_cap": 5,
        "review_window_hours": 12,
        "note": "Autumn campaign",
        "NOK_referrer_bonus": "75",
        "NOK_friend_bonus": "25.50",
        "NOK_business_bonus": "1000",
        "NOK_min_purchase": "0",
    }
    data.update(overrides)
    return data


def test_editor_saves_a_new_version_for_new_referrals_only(client, staff_with_role, program):
    old = refer()
    client.force_login(staff_with_role("marketing"))
    page = client.get(reverse("referrals_staff:program")).content.decode()
    assert 'value="50.00"' in page  # pre-filled from v1

    response = client.post(reverse("referrals_staff:program"), program_post(1))

    assert response.status_code == 302, response.content.decode()
    v2 = ReferralProgram.objects.get(version=2)
    assert (v2.qualification_window_days, v2.monthly_cap, v2.review_window_hours) == (45, 5, 12)
    assert [
        (a.currency, a.referrer_bonus_minor, a.friend_bonus_minor, a.business_bonus_minor, a.min_purchase_minor)
        for a in v2.amounts.all()
    ] == [("NOK", 7500, 2550, 100_000, 0)]
    old.refresh_from_db()
    assert old.program.version == 1
    assert refer().program.version == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"NOK_friend_bonus": "12.345"}, "decimals"),
        ({"NOK_friend_bonus": "-5"}, "zero or"),
        ({"NOK_friend_bonus": "abc"}, "Enter an amount"),
        ({"NOK_friend_bonus": ""}, "Fill in every amount"),
        ({"qualification_window_days": "0"}, "greater than or equal to 1"),
        (
            {"NOK_referrer_bonus": "", "NOK_friend_bonus": "", "NOK_business_bonus": "", "NOK_min_purchase": ""},
            "at least one currency",
        ),
    ],
)
def test_editor_bad_input_saves_nothing(client, staff_with_role, program, overrides, message):
    client.force_login(staff_with_role("marketing"))

    response = client.post(reverse("referrals_staff:program"), program_post(1, **overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert ReferralProgram.objects.count() == 1


def test_editor_refuses_to_overwrite_a_version_saved_meanwhile(client, staff_with_role, program):
    client.force_login(staff_with_role("marketing"))
    client.post(reverse("referrals_staff:program"), program_post(1))

    response = client.post(reverse("referrals_staff:program"), program_post(1, monthly_cap=9))

    assert response.status_code == 409
    assert "Someone saved a new version" in response.content.decode()
    assert ReferralProgram.objects.count() == 2


# --- Staff: the staff audit log (F-X7) ---------------------------------------------------------------------


def test_review_decisions_are_written_to_the_staff_audit_log_and_refusals_are_not(client, staff_with_role, held):
    reviewer = staff_with_role("marketing")
    client.force_login(reviewer)
    url = reverse("referrals_staff:decide", kwargs={"referral_id": held.pk})

    client.post(url, {"decision": "reject", "reason": ""})  # a domain error: no reason
    client.post(url, {"decision": "maybe"})  # a bad form
    assert not StaffAuditEntry.objects.exists()
    client.post(url, {"decision": "approve"})
    client.post(url, {"decision": "reject", "reason": "too late"})  # a domain error: decided already

    entry = StaffAuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.actor_role) == ("referral.decide", reviewer, "marketing")
    assert (entry.target_type, entry.target_id) == ("referrals.referral", str(held.pk))
    assert entry.before == {"status": ReferralStatus.HELD}
    assert entry.after == {"status": ReferralStatus.PAID, "decision": "approve", "reason": ""}


def test_programme_edits_are_written_to_the_staff_audit_log_and_refusals_are_not(client, staff_with_role, program):
    client.force_login(staff_with_role("marketing"))

    client.post(reverse("referrals_staff:program"), program_post(1, NOK_friend_bonus="abc"))  # a bad form
    client.post(reverse("referrals_staff:program"), program_post(1))
    client.post(reverse("referrals_staff:program"), program_post(1, monthly_cap=9))  # a domain error: stale

    entry = StaffAuditEntry.objects.get()
    v2 = ReferralProgram.objects.get(version=2)
    assert (entry.action, entry.target_type, entry.target_id) == (
        "referral_program.edit",
        "referrals.referralprogram",
        str(v2.pk),
    )
    assert entry.before == {"version": 1}
    assert entry.after == {"version": 2, "qualification_window_days": 45, "monthly_cap": 5, "review_window_hours": 12}
