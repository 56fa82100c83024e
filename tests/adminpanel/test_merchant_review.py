"""The staff panel's merchant review: who may open it, and what each action does."""

import pytest
from django.urls import reverse

from accounts.models import StaffAuditEntry
from merchants.models import AuditEvent, Merchant
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantFactory
from wallet.models import LedgerAccount

pytestmark = pytest.mark.django_db

PAGES = [
    ("adminpanel:merchant_list", False),
    ("adminpanel:merchant_queue", False),
    ("adminpanel:merchant_detail", True),
]
ACTIONS = [
    ("adminpanel:merchant_approve", Merchant.Status.PENDING_REVIEW, {}),
    ("adminpanel:merchant_reject", Merchant.Status.PENDING_REVIEW, {"reject-reason": "Unknown company"}),
    ("adminpanel:merchant_suspend", Merchant.Status.APPROVED, {"suspend-reason": "Fraud suspected"}),
    ("adminpanel:merchant_reinstate", Merchant.Status.SUSPENDED, {"reinstate-note": ""}),
]


def _url(name: str, merchant: Merchant | None = None) -> str:
    return reverse(name, kwargs={"merchant_id": merchant.pk}) if merchant else reverse(name)


# --- Who may open the panel --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "needs_merchant"), [("adminpanel:index", False), *PAGES])
def test_anonymous_visitors_are_sent_to_log_in(client, name, needs_merchant):
    response = client.get(_url(name, MerchantFactory() if needs_merchant else None))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize(("name", "needs_merchant"), [("adminpanel:index", False), *PAGES])
def test_consumers_are_forbidden(client, name, needs_merchant):
    client.force_login(UserFactory())

    assert client.get(_url(name, MerchantFactory() if needs_merchant else None)).status_code == 403


def test_merchant_owners_are_not_staff(client):
    owner = MembershipFactory(role="owner")
    client.force_login(owner.user)

    assert client.get(_url("adminpanel:merchant_detail", owner.merchant)).status_code == 403


def test_staff_without_two_factor_are_sent_to_set_it_up(client):
    client.force_login(StaffUserFactory(mfa=False))

    response = client.get(reverse("adminpanel:merchant_queue"))

    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


@pytest.mark.parametrize(("name", "needs_merchant"), PAGES)
def test_staff_whose_role_cannot_see_merchants_are_forbidden(client, staff_with_role, name, needs_merchant):
    client.force_login(staff_with_role("support"))

    assert client.get(_url(name, MerchantFactory() if needs_merchant else None)).status_code == 403


def test_every_staff_member_gets_the_overview(client, staff_with_role):
    client.force_login(staff_with_role("support"))

    assert client.get(reverse("adminpanel:index")).status_code == 200


@pytest.mark.parametrize(("name", "needs_merchant"), PAGES)
@pytest.mark.parametrize("role", ["administrator", "finance"])
def test_staff_who_may_view_merchants_get_the_pages(client, staff_with_role, name, needs_merchant, role):
    client.force_login(staff_with_role(role))

    assert client.get(_url(name, MerchantFactory() if needs_merchant else None)).status_code == 200


@pytest.mark.parametrize(("name", "status", "data"), ACTIONS)
@pytest.mark.parametrize("role", ["support", "finance", "marketing"])
def test_staff_without_change_merchant_cannot_act(client, staff_with_role, name, status, data, role):
    merchant = MerchantFactory(status=status)
    client.force_login(staff_with_role(role))

    response = client.post(_url(name, merchant), data)

    assert response.status_code == 403
    merchant.refresh_from_db()
    assert merchant.status == status
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("name", "status", "data"), ACTIONS)
def test_consumers_cannot_act(client, name, status, data):
    merchant = MerchantFactory(status=status)
    client.force_login(UserFactory())

    assert client.post(_url(name, merchant), data).status_code == 403
    merchant.refresh_from_db()
    assert merchant.status == status


@pytest.mark.parametrize(("name", "status", "data"), ACTIONS)
def test_actions_need_a_post(client, staff_with_role, name, status, data):
    client.force_login(staff_with_role("administrator"))

    assert client.get(_url(name, MerchantFactory(status=status))).status_code == 405


# --- What the actions do -----------------------------------------------------------------------


@pytest.fixture
def admin(client, staff_with_role):
    user = staff_with_role("administrator")
    client.force_login(user)
    return user


def test_the_queue_lists_pending_applications_oldest_first(client, admin):
    first = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, display_name="First in")
    second = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, display_name="Second in")
    MerchantFactory(display_name="Already approved")

    response = client.get(reverse("adminpanel:merchant_queue"))

    assert list(response.context["page_obj"].object_list) == [first, second]
    assert "Already approved" not in response.content.decode()


def test_the_empty_queue_says_so(client, admin):
    assert "The queue is empty" in client.get(reverse("adminpanel:merchant_queue")).content.decode()


def test_the_list_filters_by_status_and_searches(client, admin):
    MerchantFactory(display_name="Fjord Coffee", status=Merchant.Status.SUSPENDED)
    MerchantFactory(display_name="Fjord Bakery")
    MerchantFactory(display_name="Mountain Gear", status=Merchant.Status.SUSPENDED)

    response = client.get(reverse("adminpanel:merchant_list"), {"q": "fjord", "status": "suspended"})

    assert [merchant.display_name for merchant in response.context["page_obj"].object_list] == ["Fjord Coffee"]


def test_approving_opens_ledger_accounts_and_is_audited(client, admin):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)

    response = client.post(_url("adminpanel:merchant_approve", merchant), follow=True)

    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.APPROVED
    assert LedgerAccount.objects.filter(owner_key=f"merchant:{merchant.pk}").count() == 2
    html = response.content.decode()
    assert "was approved" in html
    assert "Approved the merchant" in html  # the audit log on the detail page
    assert AuditEvent.objects.get(action="merchant.approved").actor == admin


def test_approving_twice_shows_an_error_and_opens_no_more_accounts(client, admin):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)
    client.post(_url("adminpanel:merchant_approve", merchant))

    response = client.post(_url("adminpanel:merchant_approve", merchant), follow=True)

    assert "Cannot approve a merchant that is approved" in response.content.decode()
    assert LedgerAccount.objects.filter(owner_key=f"merchant:{merchant.pk}").count() == 2
    assert AuditEvent.objects.filter(action="merchant.approved").count() == 1


def test_rejecting_without_a_reason_shows_a_field_error(client, admin):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)

    response = client.post(_url("adminpanel:merchant_reject", merchant), {"reject-reason": ""})

    assert response.status_code == 400
    assert response.context["reject_form"].errors["reason"]
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.PENDING_REVIEW


def test_rejecting_with_only_spaces_is_refused_too(client, admin):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)

    response = client.post(_url("adminpanel:merchant_reject", merchant), {"reject-reason": "   "})

    assert response.status_code == 400
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.PENDING_REVIEW


def test_rejecting_records_the_reason(client, admin):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)

    client.post(_url("adminpanel:merchant_reject", merchant), {"reject-reason": "Company is dissolved"})

    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.REJECTED
    assert merchant.status_reason == "Company is dissolved"
    assert AuditEvent.objects.get().details == {"reason": "Company is dissolved"}


def test_suspending_and_reinstating(client, admin):
    merchant = MerchantFactory()

    client.post(_url("adminpanel:merchant_suspend", merchant), {"suspend-reason": "Chargebacks"})
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.SUSPENDED
    assert not merchant.is_active_for_rewards

    client.post(_url("adminpanel:merchant_reinstate", merchant), {"reinstate-note": "Cleared"})
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.APPROVED
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "merchant.suspended",
        "merchant.reinstated",
    ]


def test_suspending_needs_a_reason(client, admin):
    merchant = MerchantFactory()

    response = client.post(_url("adminpanel:merchant_suspend", merchant), {"suspend-reason": ""})

    assert response.status_code == 400
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.APPROVED


def test_the_detail_page_shows_the_team_shops_and_only_possible_actions(client, admin):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)
    MembershipFactory(merchant=merchant, user=UserFactory(email="owner@fjord.example"))
    LocationFactory(merchant=merchant)

    html = client.get(_url("adminpanel:merchant_detail", merchant)).content.decode()

    assert "owner@fjord.example" in html
    assert _url("adminpanel:merchant_approve", merchant) in html
    assert _url("adminpanel:merchant_reject", merchant) in html
    assert _url("adminpanel:merchant_suspend", merchant) not in html


def test_finance_sees_the_detail_without_the_action_forms(client, staff_with_role):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)
    client.force_login(staff_with_role("finance"))

    html = client.get(_url("adminpanel:merchant_detail", merchant)).content.decode()

    assert _url("adminpanel:merchant_approve", merchant) not in html


def test_an_unknown_merchant_is_404(client, admin):
    assert client.get(reverse("adminpanel:merchant_detail", kwargs={"merchant_id": 999999})).status_code == 404


def test_staff_see_the_staff_panel_in_the_navigation(client, admin):
    labels = [item.label for item in client.get(reverse("adminpanel:index")).context["nav_items"]]

    assert "Staff panel" in labels


# --- The staff audit log (F-X7) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "data", "after"),
    [
        (*ACTIONS[0], {"status": "approved"}),
        (*ACTIONS[1], {"status": "rejected", "reason": "Unknown company"}),
        (*ACTIONS[2], {"status": "suspended", "reason": "Fraud suspected"}),
        (*ACTIONS[3], {"status": "approved", "note": ""}),
    ],
)
def test_each_action_is_written_to_the_staff_audit_log(client, admin, name, status, data, after):
    merchant = MerchantFactory(status=status)

    client.post(_url(name, merchant), data)

    entry = StaffAuditEntry.objects.get()
    assert entry.action == "merchant." + name.rsplit("_", 1)[1]
    assert (entry.actor, entry.actor_role) == (admin, "administrator")
    assert (entry.target_type, entry.target_id) == ("merchants.merchant", str(merchant.pk))
    assert (entry.before, entry.after) == ({"status": status}, after)


def test_refused_actions_write_no_audit_entry(client, admin):
    merchant = MerchantFactory(status=Merchant.Status.APPROVED)

    client.post(_url("adminpanel:merchant_approve", merchant))  # a domain error: already approved
    client.post(_url("adminpanel:merchant_suspend", merchant), {"suspend-reason": ""})  # a bad form

    assert not StaffAuditEntry.objects.exists()


def test_the_staff_audit_page_finds_merchant_actions(client, admin):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)
    client.post(_url("adminpanel:merchant_approve", merchant))

    response = client.get(reverse("adminpanel:audit_list"), {"action": "merchant."})

    assert response.status_code == 200
    assert [entry.action for entry in response.context["page_obj"].object_list] == ["merchant.approve"]
    assert "merchant.approve" in response.content.decode()
