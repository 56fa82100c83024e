"""Idempotency-Key for partner calls: the first response is stored and replayed; a different request
with the same key is a conflict; concurrent copies run the operation once."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from cashback.errors import ConflictError
from merchants.errors import IdempotencyConflictError, IdempotencyKeyRequiredError
from merchants.idempotency import idempotent_partner_call, partner_requests_purge
from merchants.models import PartnerRequest
from tests.concurrency import run_together
from tests.merchants.factories import MerchantApiKeyFactory

pytestmark = pytest.mark.django_db


class Counter:
    """An operation that counts its runs and answers 201 with the run number."""

    def __init__(self) -> None:
        self.runs = 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.runs += 1
            run = self.runs
        return 201, {"run": run}


def _call(key, idempotency_key, fingerprint, operation):
    return idempotent_partner_call(
        api_key=key, idempotency_key=idempotency_key, request_fingerprint=fingerprint, operation=operation
    )


def test_the_first_call_runs_and_a_replay_returns_the_stored_response():
    key = MerchantApiKeyFactory()
    operation = Counter()

    first = _call(key, "order-1", {"amount": "10.00"}, operation)
    second = _call(key, "order-1", {"amount": "10.00"}, operation)

    assert first == second == (201, {"run": 1})
    assert operation.runs == 1
    stored = PartnerRequest.objects.get()
    assert stored.merchant == key.merchant and stored.api_key == key
    assert stored.response_status == 201 and stored.response_body == {"run": 1}


def test_the_fingerprint_ignores_key_order():
    key = MerchantApiKeyFactory()
    operation = Counter()
    _call(key, "k", {"a": 1, "b": [1, 2]}, operation)
    assert _call(key, "k", {"b": [1, 2], "a": 1}, operation) == (201, {"run": 1})
    assert operation.runs == 1


def test_the_same_key_with_another_request_is_a_conflict():
    key = MerchantApiKeyFactory()
    operation = Counter()
    _call(key, "order-1", {"amount": "10.00"}, operation)

    with pytest.raises(IdempotencyConflictError) as error:
        _call(key, "order-1", {"amount": "99.00"}, operation)

    assert error.value.code == "idempotency_conflict" and error.value.http_status == 409
    assert operation.runs == 1


@pytest.mark.parametrize("idempotency_key", [None, "", "   ", "x" * 256, "tab\there", "snø"])
def test_a_missing_or_bad_key_is_refused_before_anything_runs(idempotency_key):
    key = MerchantApiKeyFactory()
    operation = Counter()

    with pytest.raises(IdempotencyKeyRequiredError) as error:
        _call(key, idempotency_key, {}, operation)

    assert error.value.code == "idempotency_key_required" and error.value.http_status == 400
    assert operation.runs == 0
    assert not PartnerRequest.objects.exists()


def test_a_key_of_255_characters_is_fine():
    assert _call(MerchantApiKeyFactory(), "k" * 255, {}, Counter())[0] == 201


def test_keys_are_scoped_to_the_merchant_not_the_api_key():
    key = MerchantApiKeyFactory()
    second_key_same_merchant = MerchantApiKeyFactory(merchant=key.merchant)
    other_merchant = MerchantApiKeyFactory()
    operation = Counter()

    _call(key, "same", {}, operation)
    assert _call(second_key_same_merchant, "same", {}, operation) == (201, {"run": 1})
    assert _call(other_merchant, "same", {}, operation) == (201, {"run": 2})


def test_a_refusal_by_the_operation_is_stored_and_replayed():
    key = MerchantApiKeyFactory()
    runs = []

    def refuse():
        runs.append(1)
        PartnerRequest.objects.create(  # a write the refusal must roll back
            merchant=key.merchant, api_key=key, idempotency_key="side-effect", request_hash="0" * 64
        )
        raise ConflictError("Not now.")

    first = _call(key, "k", {}, refuse)
    second = _call(key, "k", {}, refuse)

    expected = (409, {"error": {"code": "conflict", "message": "Not now.", "fields": {}}})
    assert first == second == expected
    assert len(runs) == 1
    assert not PartnerRequest.objects.filter(idempotency_key="side-effect").exists()


def test_an_unexpected_failure_stores_nothing_so_a_retry_runs_again():
    key = MerchantApiKeyFactory()

    def crash():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        _call(key, "k", {}, crash)
    assert not PartnerRequest.objects.exists()
    assert _call(key, "k", {}, Counter()) == (201, {"run": 1})


def test_decimals_and_dates_in_the_body_are_stored_as_json():
    from decimal import Decimal

    key = MerchantApiKeyFactory()
    when = timezone.now()
    status, body = _call(key, "k", {}, lambda: (201, {"amount": Decimal("12.50"), "at": when}))
    assert body == {"amount": "12.50", "at": body["at"]}
    assert _call(key, "k", {}, Counter()) == (status, body)


def test_old_requests_are_purged(settings):
    settings.PARTNER_IDEMPOTENCY_RETENTION_DAYS = 7
    key = MerchantApiKeyFactory()
    _call(key, "old", {}, Counter())
    _call(key, "new", {}, Counter())
    PartnerRequest.objects.filter(idempotency_key="old").update(created_at=timezone.now() - timedelta(days=8))

    assert partner_requests_purge() == 1
    assert list(PartnerRequest.objects.values_list("idempotency_key", flat=True)) == ["new"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_run_the_operation_once():
    key = MerchantApiKeyFactory()
    operation = Counter()

    def slow_operation():
        # Hold the transaction open a little so the copies really overlap.
        import time

        time.sleep(0.2)
        return operation()

    results = run_together(lambda i: _call(key, "burst", {"amount": 100}, slow_operation), threads=10)

    assert all(not isinstance(result, Exception) for result in results), results
    assert results == [(201, {"run": 1})] * 10
    assert operation.runs == 1
    assert PartnerRequest.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_with_different_bodies_one_runs_the_rest_conflict():
    key = MerchantApiKeyFactory()
    operation = Counter()

    results = run_together(lambda i: _call(key, "burst", {"copy": i}, operation), threads=8)

    successes = [result for result in results if not isinstance(result, Exception)]
    conflicts = [result for result in results if isinstance(result, IdempotencyConflictError)]
    assert successes == [(201, {"run": 1})]
    assert len(conflicts) == 7
    assert operation.runs == 1
