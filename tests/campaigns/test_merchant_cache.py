"""The reward worker's per-merchant cache (campaigns/merchant_cache.py) and remembered accounts: a
change is seen by the next purchase, in this process at once and in others through the shared
version; nothing uncommitted is ever remembered."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import merchant_cache
from campaigns.models import Purchase
from campaigns.services import offer_pause
from cashback import inbox
from tests.accounts.factories import CardFactory, UserFactory
from tests.campaigns.factories import LocationFactory, OfferFactory
from tests.webhooks import visa_event
from wallet.models import AccountKind, LedgerAccount
from wallet.services import account_for_posting, account_get_or_create, accounts_for_posting_find, accounts_forget


def _clearing(n, card, location, amount="100.00"):
    data = {
        "id": f"txn_cache_{n}",
        "amount": amount,
        "datetime": (timezone.now() - timedelta(minutes=3)).isoformat(),
        "card": {"token": card.network_token, "firstNumbers": "424242", "lastNumbers": "4242"},
        "merchant": {"id": location.network_merchant_id, "name": "Shop"},
        "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
    }
    payload = visa_event("transaction.clearing", id=f"evt_cache_{n}", data=data)
    stored = inbox.event_receive(
        source="visa", event_id=f"evt_cache_{n}", event_type="transaction.clearing", payload=json.dumps(payload)
    )
    return inbox.event_process(event_id=stored.pk)


def _earned(n):
    return Purchase.objects.get(external_id=f"txn_cache_{n}").decisions[0]["earned_minor"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_changed_offer_is_seen_by_the_next_purchase(settings):
    settings.INBOX_ENQUEUE_ON_RECEIPT = False
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    card = CardFactory()
    assert _clearing(1, card, location) == "processed"
    assert merchant_cache._entries[offer.merchant_id].inputs.terms[0].percent == Decimal("10")  # cached

    offer.percent = Decimal("20")
    offer.save()  # committed: every process drops the merchant's inputs
    assert offer.merchant_id not in merchant_cache._entries
    assert _clearing(2, card, location) == "processed"
    assert _earned(2) == 2_000

    offer_pause(offer_id=offer.pk, actor=UserFactory(is_staff=True))
    assert _clearing(3, card, location) == "processed"
    assert Purchase.objects.get(external_id="txn_cache_3").decisions == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_another_process_change_is_seen_through_the_shared_version(settings):
    """Another process changed the offer: its rows here are old until the version moves."""
    settings.INBOX_ENQUEUE_ON_RECEIPT = False
    settings.CAMPAIGNS_MERCHANT_CACHE_CHECK_SECONDS = 0  # check the version on every read
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    card = CardFactory()
    assert _clearing(1, card, location) == "processed"
    type(offer).objects.filter(pk=offer.pk).update(percent=Decimal("30"))  # no signal: "elsewhere"
    cache.set(merchant_cache._version_key(offer.merchant_id), "moved-by-another-process", timeout=None)

    assert _clearing(2, card, location) == "processed"
    assert _earned(2) == 3_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inputs_read_inside_an_uncommitted_change_are_not_cached():
    offer = OfferFactory(percent=Decimal("10"))
    merchant_cache.merchant_inputs(offer.merchant_id)
    try:
        with transaction.atomic():
            offer.percent = Decimal("50")
            offer.save()
            assert merchant_cache.merchant_inputs(offer.merchant_id).terms[0].percent == Decimal("50")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert merchant_cache.merchant_inputs(offer.merchant_id).terms[0].percent == Decimal("10")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_account_created_in_a_rolled_back_transaction_is_not_remembered():
    user = UserFactory()
    try:
        with transaction.atomic():
            created = account_for_posting(kind=AccountKind.CONSUMER_PENDING, currency="NOK", user_id=user.pk)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert not LedgerAccount.objects.filter(pk=created.pk).exists()

    account = account_for_posting(kind=AccountKind.CONSUMER_PENDING, currency="NOK", user_id=user.pk)
    assert LedgerAccount.objects.filter(pk=account.pk).exists()
    assert account_for_posting(kind=AccountKind.CONSUMER_PENDING, currency="NOK", user_id=user.pk).pk == account.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_loads_the_merchants_it_has_not_seen_together_and_reloads_a_moved_one(settings):
    """``merchant_inputs_check`` (the worker's batch, before its events): merchants without an entry are
    loaded in one go, each with its own offers; a merchant whose shared version moved is reloaded."""
    settings.CAMPAIGNS_MERCHANT_CACHE_CHECK_SECONDS = 0
    offers = [OfferFactory(percent=Decimal(percent)) for percent in ("10", "15", "20")]
    merchant_cache.invalidate(None)

    with CaptureQueriesContext(connection) as queries:
        merchant_cache.merchant_inputs_check(offer.merchant_id for offer in offers)
    assert len(queries) <= 6  # offers, their shops, their rules, challenges, the watchers' question
    for offer in offers:
        terms = merchant_cache._entries[offer.merchant_id].inputs.terms
        assert [(t.id, t.percent) for t in terms] == [(offer.pk, offer.percent)]

    moved = offers[1]
    type(moved).objects.filter(pk=moved.pk).update(percent=Decimal("40"))  # no signal: "elsewhere"
    cache.set(merchant_cache._version_key(moved.merchant_id), "moved-by-another-process", timeout=None)
    merchant_cache.merchant_inputs_check([offers[0].merchant_id, moved.merchant_id])
    assert merchant_cache._entries[moved.merchant_id].inputs.terms[0].percent == Decimal("40")
    assert merchant_cache._entries[offers[0].merchant_id].inputs.terms[0].percent == Decimal("10")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_accounts_found_for_a_batch_are_remembered_only_once_it_commits():
    user = UserFactory()
    pending = account_get_or_create(kind=AccountKind.CONSUMER_PENDING, currency="NOK", user=user)
    funding = account_get_or_create(kind=AccountKind.MERCHANT_FUNDING, currency="NOK", owner_key="merchant:77")
    keys = [
        ("", user.pk, AccountKind.CONSUMER_PENDING, "NOK"),
        ("merchant:77", None, AccountKind.MERCHANT_FUNDING, "NOK"),
        ("merchant:77", None, AccountKind.MERCHANT_RECEIVABLE, "NOK"),  # not opened yet: not found
        ("", user.pk, AccountKind.CONSUMER_AVAILABLE, "NOK"),  # nor this one
    ]
    accounts_forget()
    try:
        with transaction.atomic():
            found = accounts_for_posting_find(keys=keys)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert {key: account.pk for key, account in found.items()} == {keys[0]: pending.pk, keys[1]: funding.pk}
    with CaptureQueriesContext(connection) as queries:
        accounts_for_posting_find(keys=keys[:2])  # nothing was remembered: read again
    assert len(queries) == 1

    with transaction.atomic():
        accounts_for_posting_find(keys=keys)
    with CaptureQueriesContext(connection) as queries:
        assert accounts_for_posting_find(keys=keys[:2]) == {keys[0]: pending, keys[1]: funding}
        assert (
            account_for_posting(kind=AccountKind.MERCHANT_FUNDING, currency="NOK", owner_key="merchant:77") == funding
        )
    assert len(queries) == 0
