"""Spending cashback at checkout: spend codes, the partner hold/capture/release API, never overspent."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.concurrency import run_together
from tests.merchants.factories import MerchantApiKeyFactory, MerchantFactory, api_key_headers
from wallet import spending
from wallet.errors import NothingToSpendError
from wallet.models import AccountKind, Hold, JournalTransaction, LedgerAccount, SpendCode
from wallet.services import account_get_or_create, hold_expire_due

from .factories import UserFactory, fund

pytestmark = pytest.mark.django_db

HOLDS = "/api/v1/partner/spend/holds/"


def consumer(balance: int = 30000, currency: str = "NOK"):
    user = UserFactory()
    if balance:
        fund(account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency), balance)
    return user


def available(user, currency: str = "NOK") -> int:
    return LedgerAccount.objects.get(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency).available


def receivable(merchant) -> int:
    account = LedgerAccount.objects.filter(
        owner_key=merchant.ledger_owner_key, kind=AccountKind.MERCHANT_RECEIVABLE, currency=merchant.currency
    ).first()
    return account.balance if account else 0


@pytest.fixture
def api_key():
    return MerchantApiKeyFactory(merchant=MerchantFactory(currency="NOK"))


def post(client, url, key, body, *, idempotency_key=None):
    headers = api_key_headers(
        key, **{"Idempotency-Key": uuid.uuid4().hex if idempotency_key is None else idempotency_key}
    )
    return client.post(url, data=body, content_type="application/json", **headers)


def ledger_state(user):
    return (JournalTransaction.objects.count(), Hold.objects.count(), available(user))


# --- Spend codes --------------------------------------------------------------------------


def test_a_code_is_short_unambiguous_and_replaces_the_previous_one(settings):
    settings.SPEND_CODE_TTL_SECONDS = 300
    user = consumer()
    first = spending.spend_code_issue(user=user, currency="NOK")
    second = spending.spend_code_issue(user=user, currency="NOK")

    assert len(second.code) == 8
    assert set(second.code) <= set(spending.ALPHABET)
    assert not set(second.code) & set("01OIL")
    assert 299 <= (second.expires_at - timezone.now()).total_seconds() <= 300
    first.refresh_from_db()
    assert first.status == SpendCode.Status.CANCELLED
    assert spending.display_code("ABCDEFGH") == "ABCD-EFGH"
    assert spending.normalize_code(" abcd-efgh ") == "ABCDEFGH"


def test_an_expired_unused_code_does_not_block_its_string(monkeypatch):
    user, other = consumer(), consumer()
    old = spending.spend_code_issue(user=user, currency="NOK", now=timezone.now() - timedelta(hours=1))
    # The first draw hits the old, expired code: it is retired and the same string drawn again.
    draws = iter(old.code * 2)
    monkeypatch.setattr(spending.secrets, "choice", lambda alphabet: next(draws))

    fresh = spending.spend_code_issue(user=other, currency="NOK")

    assert fresh.code == old.code
    old.refresh_from_db()
    assert old.status == SpendCode.Status.CANCELLED


def test_consumer_api_gives_a_code_with_a_csp_safe_qr(client):
    user = consumer(balance=12345)
    client.force_login(user)

    response = client.post("/api/v1/spend-codes/", data={"currency": "NOK"}, content_type="application/json")

    assert response.status_code == 201
    body = response.json()
    assert body["display"] == f"{body['code'][:4]}-{body['code'][4:]}"
    assert body["available"] == "123.45"
    assert body["qr_svg"].startswith("<svg") and "style=" not in body["qr_svg"] and "<script" not in body["qr_svg"]
    assert (
        client.post("/api/v1/spend-codes/", data={"currency": "XXX"}, content_type="application/json").status_code
        == 400
    )


# --- Partner holds ------------------------------------------------------------------------


def test_full_payment_hold_then_capture_moves_money_to_the_merchant(client, api_key):
    user = consumer(balance=30000)
    code = spending.spend_code_issue(user=user, currency="NOK")

    placed = post(
        client, HOLDS, api_key, {"code": spending.display_code(code.code), "amount": "120.00", "currency": "NOK"}
    )

    assert placed.status_code == 201, placed.content
    hold = placed.json()
    assert (hold["held"], hold["requested"], hold["partial"], hold["status"]) == ("120.00", "120.00", False, "pending")
    assert available(user) == 18000
    captured = post(client, f"{HOLDS}{hold['id']}/capture/", api_key, {"amount": "100.00"})
    assert captured.status_code == 200, captured.content
    assert (captured.json()["status"], captured.json()["captured"]) == ("posted", "100.00")
    assert available(user) == 20000  # 100 spent, the other 20 released
    assert receivable(api_key.merchant) == 10000  # the platform owes the merchant what was spent
    code.refresh_from_db()
    assert code.status == SpendCode.Status.USED
    journal = JournalTransaction.objects.get(idempotency_key=f"spend:{code.pk}:capture")
    assert journal.kind == "spend"


def test_partial_payment_holds_only_what_is_available(client, api_key):
    user = consumer(balance=5000)
    code = spending.spend_code_issue(user=user, currency="NOK")

    hold = post(client, HOLDS, api_key, {"code": code.code, "amount": "120.00", "currency": "NOK"}).json()

    assert (hold["held"], hold["requested"], hold["partial"]) == ("50.00", "120.00", True)
    assert available(user) == 0
    assert post(client, f"{HOLDS}{hold['id']}/capture/", api_key, {}).json()["captured"] == "50.00"


def test_release_returns_the_money_and_a_capture_after_release_is_refused(client, api_key):
    user = consumer(balance=30000)
    code = spending.spend_code_issue(user=user, currency="NOK")
    hold = post(client, HOLDS, api_key, {"code": code.code, "amount": "100", "currency": "NOK"}).json()

    released = post(client, f"{HOLDS}{hold['id']}/release/", api_key, {})
    assert (released.status_code, released.json()["status"]) == (200, "voided")
    assert available(user) == 30000
    before = ledger_state(user)

    capture = post(client, f"{HOLDS}{hold['id']}/capture/", api_key, {})

    assert capture.status_code == 409
    assert capture.json()["error"]["code"] == "hold_not_pending"
    assert ledger_state(user) == before


def test_capturing_more_than_held_is_refused(client, api_key):
    user = consumer(balance=30000)
    code = spending.spend_code_issue(user=user, currency="NOK")
    hold = post(client, HOLDS, api_key, {"code": code.code, "amount": "100", "currency": "NOK"}).json()
    before = ledger_state(user)

    response = post(client, f"{HOLDS}{hold['id']}/capture/", api_key, {"amount": "100.01"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "hold_amount_exceeded"
    assert ledger_state(user) == before


def test_a_replayed_request_with_the_same_key_changes_nothing(client, api_key):
    user = consumer(balance=30000)
    code = spending.spend_code_issue(user=user, currency="NOK")
    body = {"code": code.code, "amount": "100", "currency": "NOK"}

    first = post(client, HOLDS, api_key, body, idempotency_key="checkout-1")
    again = post(client, HOLDS, api_key, body, idempotency_key="checkout-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    hold_id = first.json()["id"]

    capture_1 = post(client, f"{HOLDS}{hold_id}/capture/", api_key, {"amount": "60"}, idempotency_key="cap-1")
    capture_2 = post(client, f"{HOLDS}{hold_id}/capture/", api_key, {"amount": "60"}, idempotency_key="cap-1")
    assert capture_1.json() == capture_2.json()
    assert available(user) == 24000
    assert Hold.objects.count() == 1
    assert JournalTransaction.objects.filter(kind="spend").count() == 1
    conflict = post(client, f"{HOLDS}{hold_id}/capture/", api_key, {"amount": "50"}, idempotency_key="cap-1")
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "idempotency_conflict")
    missing = post(client, HOLDS, api_key, body, idempotency_key="")
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "idempotency_key_required")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("expired", 409, "spend_code_expired"),
        ("reused", 409, "spend_code_used"),
        ("replaced", 409, "spend_code_expired"),
        ("unknown", 404, "spend_code_not_found"),
        ("other_currency_request", 400, "currency_mismatch"),
        ("code_in_another_currency", 400, "currency_mismatch"),
        ("too_many_decimals", 400, "too_many_decimals"),
        ("negative", 400, "invalid_amount"),
        ("nothing_available", 409, "insufficient_funds"),
    ],
)
def test_bad_requests_are_clear_4xx_and_change_nothing(client, api_key, case, status, code):
    user = consumer(balance=0 if case == "nothing_available" else 30000)
    account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK")
    if case in ("nothing_available", "code_in_another_currency"):
        # A code issued while there was money (none is issued at 0.00 available) which has gone since.
        spend = SpendCode.objects.create(
            code="ABCD2345",
            user=user,
            currency="SEK" if case == "code_in_another_currency" else "NOK",
            expires_at=timezone.now() + timedelta(minutes=5),
        )
    else:
        spend = spending.spend_code_issue(user=user, currency="NOK")
    body = {"code": spend.code, "amount": "10.00", "currency": "NOK"}
    if case == "expired":
        SpendCode.objects.filter(pk=spend.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "reused":
        assert post(client, HOLDS, api_key, body).status_code == 201
    elif case == "replaced":
        spending.spend_code_issue(user=user, currency="NOK")
    elif case == "unknown":
        body["code"] = "ZZZZ-ZZZZ"
    elif case == "other_currency_request":
        body["currency"] = "SEK"
    elif case == "too_many_decimals":
        body["amount"] = "10.001"
    elif case == "negative":
        body["amount"] = "-10"
    before = ledger_state(user)
    codes_before = list(SpendCode.objects.order_by("pk").values_list("pk", "status"))

    response = post(client, HOLDS, api_key, body)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert ledger_state(user) == before
    assert list(SpendCode.objects.order_by("pk").values_list("pk", "status")) == codes_before


def test_another_merchant_cannot_touch_the_hold(client, api_key):
    user = consumer(balance=30000)
    code = spending.spend_code_issue(user=user, currency="NOK")
    hold = post(client, HOLDS, api_key, {"code": code.code, "amount": "100", "currency": "NOK"}).json()
    other = MerchantApiKeyFactory(merchant=MerchantFactory(currency="NOK"))

    for action in ("capture", "release"):
        response = post(client, f"{HOLDS}{hold['id']}/{action}/", other, {})
        assert (response.status_code, response.json()["error"]["code"]) == (404, "spend_hold_not_found")
    assert client.get(f"{HOLDS}{hold['id']}/", **api_key_headers(other)).status_code == 404
    assert client.get(f"{HOLDS}{hold['id']}/", **api_key_headers(api_key)).json()["status"] == "pending"
    assert available(user) == 20000


def test_a_logged_in_person_is_not_a_partner(client):
    client.force_login(UserFactory())
    response = client.post(HOLDS, data={}, content_type="application/json")
    assert response.status_code == 401


def test_an_unresolved_hold_expires_and_the_money_comes_back(client, api_key, settings):
    settings.SPEND_HOLD_TTL_SECONDS = 60
    user = consumer(balance=30000)
    code = spending.spend_code_issue(user=user, currency="NOK")
    hold = post(client, HOLDS, api_key, {"code": code.code, "amount": "100", "currency": "NOK"}).json()

    assert hold_expire_due(now=timezone.now() + timedelta(seconds=61)) == 1

    assert available(user) == 30000
    response = post(client, f"{HOLDS}{hold['id']}/capture/", api_key, {})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "hold_not_pending")


# --- Concurrency (PostgreSQL) -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_move_the_money_once():
    merchant = MerchantFactory(currency="NOK")
    user = consumer(balance=30000)
    code = spending.spend_code_issue(user=user, currency="NOK")
    spend = spending.spend_hold_place(merchant=merchant, code=code.code, amount_minor=10000, currency="NOK")

    amounts = [10000, 9000, 10000, 8000, 10000, 7000, 10000, 6000]
    results = run_together(
        lambda i: spending.spend_hold_capture(merchant=merchant, hold_id=spend.hold_id, amount_minor=amounts[i]),
        threads=len(amounts),
    )

    journals = {r.pk for r in results if isinstance(r, JournalTransaction)}
    assert len(journals) == 1  # replays of the winning capture return it; the others are refused
    errors = [r for r in results if not isinstance(r, JournalTransaction)]
    assert all(getattr(e, "code", "") == "hold_not_pending" for e in errors), errors
    spent = JournalTransaction.objects.get(pk=journals.pop()).entries.get(direction="debit").amount
    assert available(user) == 30000 - spent
    assert receivable(merchant) == spent


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_code_at_many_checkouts_at_once_is_used_once():
    merchant = MerchantFactory(currency="NOK")
    user = consumer(balance=30000)
    code = spending.spend_code_issue(user=user, currency="NOK")

    results = run_together(
        lambda _: spending.spend_hold_place(merchant=merchant, code=code.code, amount_minor=10000, currency="NOK"),
        threads=8,
    )

    placed = [r for r in results if isinstance(r, SpendCode)]
    assert len(placed) == 1
    assert all(getattr(r, "code", "") == "spend_code_used" for r in results if not isinstance(r, SpendCode))
    assert available(user) == 20000
    assert Hold.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_holds_from_many_codes_never_overspend():
    merchant = MerchantFactory(currency="NOK")
    user = consumer(balance=30000)
    # Six live codes of one consumer (a new code normally replaces the old one; made directly to race them).
    expires_at = timezone.now() + timedelta(minutes=5)
    spends = [
        SpendCode.objects.create(code=f"RACE{i:04d}", user=user, currency="NOK", expires_at=expires_at)
        for i in range(6)
    ]

    results = run_together(
        lambda i: spending.spend_hold_place(merchant=merchant, code=spends[i].code, amount_minor=8000, currency="NOK"),
        threads=6,
    )

    placed = [r for r in results if isinstance(r, SpendCode)]
    assert sum(r.hold.amount for r in placed) == 30000  # 8000 + 8000 + 8000 + 6000, then nothing left
    assert len(placed) == 4
    assert all(getattr(r, "code", "") == "insufficient_funds" for r in results if not isinstance(r, SpendCode))
    assert available(user) == 0


def test_no_code_is_issued_while_nothing_is_available_and_the_page_says_so(client):
    empty = consumer(balance=0)
    client.force_login(empty)

    page = client.get("/wallet/spend/").content.decode()
    refused = client.post("/wallet/spend/", {"currency": "NOK"}, follow=True).content.decode()

    assert "no cashback available to spend yet" in page
    assert "Get a spend code" not in page
    assert "no cashback available to spend yet" in refused
    assert not SpendCode.objects.filter(user=empty).exists()
    with pytest.raises(NothingToSpendError):
        spending.spend_code_issue(user=empty, currency="NOK")


def test_the_api_refuses_a_code_at_zero_available_with_a_409(client):
    api = APIClient()
    api.force_authenticate(consumer(balance=0))

    response = api.post("/api/v1/spend-codes/", {"currency": "NOK"}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "nothing_to_spend"
