"""The doors onto payouts and spend codes: /api/v1/payouts/, the web wallet pages, the staff page."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import StaffAuditEntry
from tests.accounts.factories import StaffUserFactory
from wallet.models import JournalTransaction, Payout, PayoutAccount, PayoutStatus, SpendCode

from .factories import UserFactory
from .payout_support import available, ready_consumer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payout_settings(settings, fake_stripe):
    settings.STRIPE_PROVIDER = "fake"
    settings.PAYOUT_MINIMUM_MINOR = 10000
    settings.PAYOUT_MINIMUM_MINOR_BY_CURRENCY = {}
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 100000


def api_post(client, body, **headers):
    return client.post("/api/v1/payouts/", data=body, content_type="application/json", headers=headers)


# --- API -------------------------------------------------------------------------------


def test_api_requests_and_lists_payouts(client, django_capture_on_commit_callbacks):
    user = ready_consumer(balance=50000)
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_post(client, {"amount": "150.00", "currency": "NOK"})

    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "150.00"
    assert response.json()["status"] == "requested"  # processing runs after the answer
    listed = client.get("/api/v1/payouts/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["status"] == "processing"
    assert available(user) == 35000


def test_api_idempotency_key_makes_a_resent_request_one_payout(client):
    user = ready_consumer(balance=50000)
    client.force_login(user)
    first = api_post(client, {"amount": "150", "currency": "NOK"}, **{"Idempotency-Key": "phone-1"})
    again = api_post(client, {"amount": "150", "currency": "NOK"}, **{"Idempotency-Key": "phone-1"})
    assert first.json()["id"] == again.json()["id"]
    assert Payout.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "ready", "status", "code"),
    [
        ({"amount": "99.99", "currency": "NOK"}, True, 400, "payout_below_minimum"),
        ({"amount": "500.01", "currency": "NOK"}, True, 409, "insufficient_funds"),
        ({"amount": "150.001", "currency": "NOK"}, True, 400, "too_many_decimals"),
        ({"amount": "abc", "currency": "NOK"}, True, 400, "invalid_amount"),
        ({"amount": "150", "currency": "XXX"}, True, 400, "invalid"),
        ({"amount": "150", "currency": "NOK"}, False, 409, "payouts_not_set_up"),
    ],
)
def test_api_bad_input_is_a_clear_4xx_and_changes_nothing(client, body, ready, status, code):
    user = ready_consumer(balance=50000, ready=ready)
    client.force_login(user)
    journals = JournalTransaction.objects.count()

    response = api_post(client, body)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert Payout.objects.count() == 0
    assert JournalTransaction.objects.count() == journals
    assert available(user) == 50000


def test_api_needs_a_signed_in_consumer(client):
    assert client.get("/api/v1/payouts/").status_code in (401, 403)


def test_api_account_and_onboarding(client, fake_stripe):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/api/v1/payouts/account/").json()["set_up"] is False

    response = client.post("/api/v1/payouts/account/")

    assert response.status_code == 200
    # The app's return link carries its own authorisation (test_payout_app_onboarding.py).
    assert "/wallet/payouts/setup/app/" in response.json()["url"]
    assert response.json()["url"].endswith("/return/")
    account = PayoutAccount.objects.get(user=user)
    [call] = fake_stripe.calls("connected_account_create")
    assert call.idempotency_key == f"payout-account:{user.pk}:create"
    client.post("/api/v1/payouts/account/")
    assert len(fake_stripe.calls("connected_account_create")) == 1  # the account exists: only a new link
    assert PayoutAccount.objects.filter(user=user).count() == 1
    assert account.stripe_account_id.startswith("acct_fake_")


# --- Web wallet ------------------------------------------------------------------------


def test_onboarding_through_the_pages(client, fake_stripe):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/wallet/payouts/")
    assert b"Set up payouts with Stripe" in page.content

    to_stripe = client.post("/wallet/payouts/setup/")
    assert to_stripe.status_code == 302
    # The fake's onboarding link goes straight back to the return page.
    back = client.get(to_stripe["Location"], follow=True)

    assert b"Payouts are set up" in back.content
    assert PayoutAccount.objects.get(user=user).is_ready


def test_the_return_page_says_when_stripe_needs_more(client, fake_stripe):
    user = ready_consumer(ready=False)
    fake_stripe.account_set(user.payout_account.stripe_account_id, payouts_enabled=False, details_submitted=False)
    client.force_login(user)

    page = client.get("/wallet/payouts/setup/return/", follow=True)

    assert b"Stripe still needs some details" in page.content
    assert b"Continue the set-up with Stripe" in page.content
    refresh = client.get("/wallet/payouts/setup/refresh/")
    assert refresh.status_code == 302


def test_requesting_a_payout_on_the_page(client, django_capture_on_commit_callbacks):
    user = ready_consumer(balance=50000)
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/wallet/payouts/", {"amount": "150.00", "currency": "NOK"}, follow=True)

    assert b"is on its way" in response.content
    assert "NOK\u00a0150.00".encode() in response.content
    assert Payout.objects.get().status == PayoutStatus.PROCESSING


@pytest.mark.parametrize(
    ("amount", "message"),
    [("10", b"The smallest payout is 100.00 NOK"), ("600", b"You have 500.00 NOK available"), ("1.234", b"decimals")],
)
def test_bad_amounts_on_the_page_show_the_reason(client, amount, message):
    user = ready_consumer(balance=50000)
    client.force_login(user)

    response = client.post("/wallet/payouts/", {"amount": amount, "currency": "NOK"})

    assert response.status_code == 200  # the form again, with the reason beside the amount
    assert message in response.content
    assert Payout.objects.count() == 0


def test_the_spend_page_shows_a_code_and_its_qr(client):
    user = ready_consumer(balance=12345)
    client.force_login(user)
    assert b"Get a spend code" in client.get("/wallet/spend/").content

    page = client.post("/wallet/spend/", {"currency": "NOK"})

    code = SpendCode.objects.get(user=user)
    assert f"{code.code[:4]}-{code.code[4:]}".encode() in page.content
    assert (
        b'<svg viewBox="0 0' in page.content and b"style=" not in page.content.split(b"<svg", 1)[1].split(b"</svg>")[0]
    )
    assert b"123.45 NOK" in page.content


# --- Staff -----------------------------------------------------------------------------


def staff(*codenames):
    user = StaffUserFactory(mfa=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="wallet", codename__in=codenames))
    return user


def test_staff_release_and_reject_held_payouts(client, django_capture_on_commit_callbacks):
    user = ready_consumer(balance=500000)
    with django_capture_on_commit_callbacks(execute=True):
        client.force_login(user)
        client.post("/wallet/payouts/", {"amount": "2000", "currency": "NOK"})
        client.post("/wallet/payouts/", {"amount": "1500", "currency": "NOK"})
    first, second = Payout.objects.order_by("pk")
    assert first.status == second.status == PayoutStatus.HELD

    reviewer = staff("view_payout", "change_payout")
    client.force_login(reviewer)
    page = client.get("/staff/payouts/")
    assert page.status_code == 200, page.content[:500]
    assert "NOK\u00a02,000.00".encode() in page.content

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/payouts/{first.pk}/release/")
    client.post(f"/staff/payouts/{second.pk}/reject/", {"reason": "Looks unusual"})

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == PayoutStatus.PROCESSING
    assert (second.status, second.failure_message) == (PayoutStatus.FAILED, "Looks unusual")
    assert available(user) == 300000


def test_the_staff_page_is_for_staff_with_the_permission(client):
    client.force_login(UserFactory())
    assert client.get("/staff/payouts/").status_code == 403
    client.force_login(staff())
    assert client.get("/staff/payouts/").status_code == 403
    client.force_login(staff("view_payout"))
    assert client.get("/staff/payouts/").status_code == 200
    assert client.post("/staff/payouts/1/release/").status_code == 403


def test_staff_payout_decisions_are_written_to_the_staff_audit_log(client, django_capture_on_commit_callbacks):
    user = ready_consumer(balance=500000)
    with django_capture_on_commit_callbacks(execute=True):
        client.force_login(user)
        client.post("/wallet/payouts/", {"amount": "2000", "currency": "NOK"})
        client.post("/wallet/payouts/", {"amount": "1500", "currency": "NOK"})
    first, second = Payout.objects.order_by("pk")
    reviewer = staff("view_payout", "change_payout")
    client.force_login(reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/payouts/{first.pk}/release/")
    client.post(f"/staff/payouts/{second.pk}/reject/", {"reason": ""})  # a bad form: no entry
    client.post(f"/staff/payouts/{second.pk}/reject/", {"reason": "Looks unusual"})
    client.post(f"/staff/payouts/{second.pk}/reject/", {"reason": "Again"})  # a domain error: no entry

    entries = StaffAuditEntry.objects.order_by("pk")
    assert [(entry.action, entry.target_id, entry.actor) for entry in entries] == [
        ("payout.release", str(first.pk), reviewer),
        ("payout.reject", str(second.pk), reviewer),
    ]
    assert (entries[0].before, entries[0].after) == ({"status": "held"}, {"status": "requested"})  # sent after commit
    assert (entries[1].before, entries[1].after) == (
        {"status": "held"},
        {"status": "failed", "reason": "Looks unusual"},
    )
