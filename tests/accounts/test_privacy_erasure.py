"""Close my account: blocked while something is the person's, then erased idempotently with the
ledger still balanced and checkable, unfindable by staff search, signed out everywhere (F-A5)."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.test import Client

from accounts import data_export, erasure
from accounts.errors import ErasureBlockedError
from accounts.models import AuditRecord, Card, DataExport, User
from cashback import events
from cashback.models import Fact
from notifications.models import Notification
from referrals.models import DeviceSighting, Referral, ReferralStatus
from tests.accounts.factories import PASSWORD, StaffUserFactory, UserFactory
from tests.accounts.privacy_scenarios import available_minor, person_with_history, settle_pending
from tests.charity.factories import available_money
from tests.wallet.payout_support import ready_consumer
from wallet import payouts
from wallet.invariants import ledger_violations
from wallet.models import Entry, LedgerAccount

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def _blocker_codes(user) -> list[str]:
    return [blocker.code for blocker in erasure.erasure_blockers(user=user)]


def test_pending_cashback_and_a_balance_block_and_nothing_changes():
    history = person_with_history(email="ada@example.com")
    user = history.user

    assert _blocker_codes(user) == ["rewards_pending"]
    with pytest.raises(ErasureBlockedError) as blocked:
        erasure.account_erase(user=user)

    assert blocked.value.fields == {"blockers": ["rewards_pending"]}
    user.refresh_from_db()
    assert user.email == "ada@example.com" and user.erased_at is None and user.is_active
    assert not AuditRecord.objects.exists()


def test_a_balance_left_offers_a_payout_and_giving_and_a_payout_under_way_blocks():
    user = ready_consumer(balance=50_000)

    blockers = erasure.erasure_blockers(user=user)
    assert [b.code for b in blockers] == ["balance_not_zero"]
    assert ("wallet:payouts", "Pay it out to your bank account") in blockers[0].actions
    assert ("charity:giving", "Give it to a charity") in blockers[0].actions

    payouts.payout_request(user=user, amount_minor=50_000, currency="NOK")
    assert _blocker_codes(user) == ["payout_in_progress"]


def test_erasing_a_person_with_history_keeps_the_ledger_balanced_and_checkable():
    history = person_with_history(email="grace@example.com", full_name="Grace Hopper", city="Arlington")
    settle_pending(history)
    user = history.user
    assert available_minor(user) == 0
    entries_before = Entry.objects.filter(account__user=user).count()
    balances_before = list(LedgerAccount.objects.filter(user=user).order_by("pk").values_list("pk", "balance"))

    record = erasure.account_erase(user=user)

    user.refresh_from_db()
    assert user.erased_at is not None and not user.is_active and not user.has_usable_password()
    assert (user.email, user.phone, user.full_name, user.city, user.birth_year) == (None, None, "", "", None)
    assert str(user) == f"erased user {user.pk}"
    assert not Card.objects.filter(user=user, status=Card.Status.ACTIVE).exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not Notification.objects.filter(user=user).exists()
    assert not DeviceSighting.objects.filter(user=user).exists()
    assert not Referral.objects.filter(referrer=user).exclude(status=ReferralStatus.REJECTED).exists()
    # The ledger is untouched and still passes its nightly check.
    assert Entry.objects.filter(account__user=user).count() == entries_before
    assert list(LedgerAccount.objects.filter(user=user).order_by("pk").values_list("pk", "balance")) == balances_before
    assert ledger_violations() == []
    out = StringIO()
    call_command("ledger_check", stdout=out)
    # Staff see the erasure, with nothing that names the person.
    assert record is not None and record.subject_id == user.pk
    assert "grace" not in str(record.details).lower()


def test_erasure_is_idempotent():
    user = UserFactory()

    first = erasure.account_erase(user=user)
    again = erasure.account_erase(user=user)

    assert first is not None and again is None
    assert AuditRecord.objects.filter(subject=user).count() == 1


def test_the_erased_person_cannot_be_found_by_staff_search():
    user = UserFactory(email="findme@example.com", full_name="Findme Person", phone="+4791234567")
    erasure.account_erase(user=user)
    staff = StaffUserFactory(is_superuser=True, mfa=True)
    client = Client()
    client.force_login(staff)

    for term in ("findme", "Findme Person", "+4791234567"):
        response = client.get("/django-admin/accounts/user/", {"q": term})
        assert response.status_code == 200
        assert "0 users" in response.content.decode() or f"user/{user.pk}/" not in response.content.decode()
    assert client.get("/staff/erasures/").status_code == 200
    assert str(user.pk) in client.get("/staff/erasures/").content.decode()


def test_sign_up_network_and_device_are_blanked_in_facts_and_exports_removed():
    user = UserFactory()
    events.announce("user_signed_up", user_id=user.pk, referral_code="", ip="10.1.2.3", device_id="dev-1")
    export, _ = data_export.data_export_start(user=user)
    data_export.data_export_build(export_id=export.pk)

    erasure.account_erase(user=user)

    fact = Fact.objects.get(kind="user_signed_up", payload__user_id=user.pk)
    assert fact.payload["ip"] is None and fact.payload["device_id"] is None
    assert not DataExport.objects.filter(user=user).exists()


def test_staff_accounts_are_not_closed_from_the_wallet():
    assert _blocker_codes(StaffUserFactory()) == ["staff_account"]


# --- The API ------------------------------------------------------------------------------------


@pytest.fixture
def signed_in(app_client):
    user = UserFactory(email="api@example.com")
    assert (
        app_client.post("/_allauth/app/v1/auth/login", {"email": "api@example.com", "password": PASSWORD}).status_code
        == 200
    )
    return app_client, user


def _delete(app_client, payload):
    return app_client.client.delete(ME, payload, content_type="application/json", headers=app_client._headers())


def test_delete_me_needs_the_password_and_the_confirmation(signed_in):
    app_client, user = signed_in

    wrong = _delete(app_client, {"password": "nope", "confirmation": "delete"})

    assert wrong.status_code == 400
    body = wrong.json()["error"]
    assert body["code"] == "erasure_not_confirmed" and set(body["fields"]) == {"password", "confirmation"}
    assert _delete(app_client, {}).status_code == 400
    user.refresh_from_db()
    assert user.erased_at is None


def test_delete_me_is_409_with_the_blocking_codes(signed_in):
    app_client, user = signed_in
    available_money(user, 12_345)

    response = _delete(app_client, {"password": PASSWORD, "confirmation": "DELETE"})

    assert response.status_code == 409
    assert response.json()["error"]["fields"]["blockers"] == ["balance_not_zero"]


def test_delete_me_erases_and_the_token_no_longer_works(signed_in):
    app_client, user = signed_in

    response = _delete(app_client, {"password": PASSWORD, "confirmation": "DELETE"})

    assert response.status_code == 204
    assert User.objects.get(pk=user.pk).erased_at is not None
    assert app_client.get(ME).status_code == 401
    app_client.session_token = None
    login = app_client.post("/_allauth/app/v1/auth/login", {"email": "api@example.com", "password": PASSWORD})
    assert login.status_code == 400


def test_export_api_starts_one_and_reports_its_link(signed_in, django_capture_on_commit_callbacks):
    app_client, _user = signed_in
    assert app_client.get(f"{ME}export/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        started = app_client.post(f"{ME}export/", {})
    assert started.status_code == 202

    status = app_client.get(f"{ME}export/").json()
    assert status["status"] == "ready" and status["percent"] == 100
    download = app_client.get(status["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    other = Client()
    other.force_login(UserFactory())
    assert other.get(status["download_url"]).status_code == 404
