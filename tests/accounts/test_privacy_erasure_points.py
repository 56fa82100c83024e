"""Closing the account with points (issue 20): the person is told their points are forfeited (points
are never money) and must acknowledge it; the erasure then forfeits them in one balanced, keyed
ledger transaction to the platform's ``points_forfeited`` account, exactly once."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import erasure
from accounts.errors import ErasureNotAcknowledgedError
from accounts.models import User
from tests.accounts.factories import PASSWORD, UserFactory
from tests.accounts.test_privacy_erasure import ME, _delete, signed_in  # noqa: F401 (a fixture)
from wallet.invariants import ledger_violations
from wallet.models import POINTS, AccountKind, JournalKind, JournalTransaction, LedgerAccount
from wallet.points import points_award, points_balance
from wallet.privacy import POINTS_FORFEITED, points_forfeit_key

pytestmark = pytest.mark.django_db

MERCHANT_ID = 4242  # an issuer's owner key only: the wallet does not look the merchant up


def _give(user, points: int, key: str = "test:points:1") -> None:
    points_award(user=user, points=points, merchant_id=MERCHANT_ID, idempotency_key=key, memo="Survey")


def _forfeited_account() -> LedgerAccount:
    return LedgerAccount.objects.get(kind=AccountKind.POINTS_FORFEITED, currency=POINTS, owner_key="platform")


def test_points_do_not_block_but_must_be_acknowledged_and_nothing_changes_until_they_are():
    person = UserFactory()
    _give(person, 2_500)

    assert erasure.erasure_blockers(user=person) == []
    with translation.override("en"):
        [notice] = erasure.erasure_notices(user=person)
    assert notice.code == POINTS_FORFEITED and "2,500 points" in notice.message and "never money" in notice.message
    with pytest.raises(ErasureNotAcknowledgedError) as refused:
        erasure.account_erase(user=person)

    assert refused.value.fields == {"acknowledge": [POINTS_FORFEITED]}
    assert User.objects.get(pk=person.pk).erased_at is None
    assert points_balance(user=person) == 2_500
    assert not JournalTransaction.objects.filter(kind=JournalKind.POINTS_FORFEIT).exists()


def test_closing_forfeits_the_points_once_in_a_balanced_keyed_transaction():
    person = UserFactory()
    _give(person, 2_000, "test:points:a")
    _give(person, 500, "test:points:b")

    record = erasure.account_erase(user=person, acknowledged=[POINTS_FORFEITED])
    again = erasure.account_erase(user=person, acknowledged=[POINTS_FORFEITED])

    assert record is not None and again is None
    assert record.details["erased"]["wallet"]["points_forfeited"] == 2_500
    journal = JournalTransaction.objects.get(kind=JournalKind.POINTS_FORFEIT)
    assert journal.idempotency_key == points_forfeit_key(person.pk)
    assert sorted((entry.direction, entry.amount, entry.account.kind) for entry in journal.entries.all()) == [
        ("credit", 2_500, AccountKind.POINTS_FORFEITED),
        ("debit", 2_500, AccountKind.POINTS_AVAILABLE),
    ]
    assert points_balance(user=person) == 0
    assert _forfeited_account().balance == 2_500
    assert ledger_violations() == []


def test_without_points_nothing_is_asked_and_nothing_is_posted():
    person = UserFactory()

    assert erasure.erasure_notices(user=person) == []
    assert erasure.account_erase(user=person) is not None
    assert not JournalTransaction.objects.filter(kind=JournalKind.POINTS_FORFEIT).exists()


def test_the_page_tells_the_points_and_closes_only_with_the_box_ticked(client):
    person = UserFactory()
    _give(person, 1_234)
    client.force_login(person)

    page = client.get(reverse("accounts:privacy"))
    assert page.status_code == 200
    assert "1,234 points" in page.content.decode() and 'value="points_forfeited"' in page.content.decode()

    unticked = client.post(reverse("accounts:privacy_close"), {"password": PASSWORD, "confirmation": "DELETE"})
    assert unticked.status_code == 200 and "Tick each box" in unticked.content.decode()
    assert User.objects.get(pk=person.pk).erased_at is None

    ticked = client.post(
        reverse("accounts:privacy_close"),
        {"password": PASSWORD, "confirmation": "DELETE", "acknowledge": ["points_forfeited"]},
    )
    assert ticked.status_code == 302
    assert User.objects.get(pk=person.pk).erased_at is not None
    assert _forfeited_account().balance == 1_234


def test_the_page_in_norwegian_names_the_forfeit(client):
    person = UserFactory()
    _give(person, 1_234)
    client.force_login(person)

    page = client.get(reverse("accounts:privacy"), headers={"accept-language": "nb"})

    assert "aldri penger" in page.content.decode()


def test_delete_me_says_which_codes_to_acknowledge_then_closes(signed_in):  # noqa: F811
    app_client, user = signed_in
    _give(user, 300)

    refused = _delete(app_client, {"password": PASSWORD, "confirmation": "DELETE"})

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "erasure_not_acknowledged" and error["fields"] == {"acknowledge": ["points_forfeited"]}
    assert "300 points" in error["message"]
    accepted = _delete(
        app_client, {"password": PASSWORD, "confirmation": "DELETE", "acknowledge": ["points_forfeited"]}
    )
    assert accepted.status_code == 204
    assert User.objects.get(pk=user.pk).erased_at is not None
    assert _forfeited_account().balance == 300
