"""The catalogue's API for the mobile app (``/api/v1/catalogue/``, ``/api/v1/vouchers/``): the rewards a
member may redeem, redeeming with an Idempotency-Key and clear 4xx, the vouchers masked, and the SMS claim
that shows the code once."""

import datetime

import pytest
from django.utils import timezone

from cashback.providers.sms import FakeSmsClient
from programmes import catalogue
from programmes.catalogue_models import Redemption, RewardItem, VoucherCode
from tests.programmes.catalogue_factories import (
    Shop,
    active_batch,
    claim_code_from,
    give_points,
    item,
    member,
    shop,
    spec,
)
from tests.programmes.factories import approved_contract, programme_world
from tests.wallet.factories import consumer_accounts, fund
from wallet.invariants import ledger_violations
from wallet.points import points_balance

pytestmark = pytest.mark.django_db

CATALOGUE = "/api/v1/catalogue/"
VOUCHERS = "/api/v1/vouchers/"


@pytest.fixture(autouse=True)
def sms_outbox():
    FakeSmsClient.clear()
    yield FakeSmsClient.outbox
    FakeSmsClient.clear()


def _redeem(client, item_id, key="redeem-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"{CATALOGUE}{item_id}/redeem/", content_type="application/json", headers=headers)


def _error(response):
    return response.json()["error"]


def test_the_catalogue_needs_a_sign_in(client):
    assert client.get(CATALOGUE).status_code == 401
    assert client.get(VOUCHERS).status_code == 401


def test_the_list_shows_only_what_the_member_may_redeem_with_price_stock_and_validity(client):
    world = shop()
    coffee = item(world, price=500, stock=7, name="Coffee")
    cinema = item(world, price_kind="cashback", price=12_550, name="Cinema", kind="event_invitation")
    item(world, name="Wholesalers only", segment="wholesaler")
    item(world, name="Not yet", valid_from=timezone.localdate() + datetime.timedelta(days=2))
    item(world, name="Switched off", is_active=False)
    person = member(world)
    client.force_login(person)

    response = client.get(CATALOGUE)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    rows = {row["name"]: row for row in body["results"]}
    assert set(rows) == {"Coffee", "Cinema"}
    assert rows["Coffee"] | {"id": 0} == {
        "id": 0,
        "kind": "prepaid_voucher",
        "kind_label": "Prepaid voucher",
        "name": "Coffee",
        "description": "A large coffee at any Kopi shop.",
        "brand": "Nusa Brands",
        "price_kind": "points",
        "price": "500",
        "currency": "PTS",
        "stock": 7,
        "valid_from": coffee.valid_from.isoformat(),
        "valid_until": coffee.valid_until.isoformat(),
        "image_url": None,
    }
    assert (rows["Cinema"]["price"], rows["Cinema"]["currency"], rows["Cinema"]["price_kind"]) == (
        "125.50",
        "NOK",
        "cashback",
    )
    assert rows["Cinema"]["id"] == cinema.pk
    detail = client.get(f"{CATALOGUE}{coffee.pk}/").json()
    assert detail["refusal"] is None and detail["stock"] == 7


def test_the_list_agrees_with_the_pages_eligibility_rules(client):
    world = programme_world()
    contract = approved_contract(world)
    marketing = world.marketing_admin
    for_programme = catalogue.reward_item_create(
        role=marketing, spec=spec(name="Programme only", price=10, programme=world.programme)
    )
    for_customers = catalogue.reward_item_create(role=marketing, spec=spec(name="Customers", segment="business"))
    insider, outsider = contract.customer.user, member(shop())

    for person in (insider, outsider):
        client.force_login(person)
        listed = {row["id"] for row in client.get(CATALOGUE).json()["results"]}
        allowed = {
            reward.pk
            for reward in (for_programme, for_customers)
            if catalogue.item_refusal(item=reward, user=person) is None
        }
        assert listed == allowed
    assert allowed == set()  # the outsider's
    client.force_login(outsider)
    refusal = client.get(f"{CATALOGUE}{for_customers.pk}/").json()["refusal"]
    assert "business customers" in refusal


def test_redeeming_needs_an_idempotency_key_and_the_same_key_is_one_redemption(client):
    world = shop()
    reward = item(world, price=500, code_source="uploaded")
    active_batch(world, reward, ["KOPI-0000-4321", "KOPI-0000-9999"])
    person = member(world, points=1_200)
    client.force_login(person)

    missing = _redeem(client, reward.pk, key=None)
    first = _redeem(client, reward.pk)
    again = _redeem(client, reward.pk)

    assert missing.status_code == 400 and _error(missing)["code"] == "idempotency_key_required"
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    body = first.json()
    assert (body["status"], body["price"], body["currency"], body["item"]) == ("issued", "500", "PTS", reward.pk)
    assert body["voucher"]["masked"] == "••••4321" and "KOPI-0000-4321" not in first.content.decode()
    assert points_balance(user=person) == 700
    assert Redemption.objects.count() == 1 and RewardItem.objects.get(pk=reward.pk).stock == 9
    other = item(world, price=100, name="Tea")
    conflict = _redeem(client, other.pk)
    assert conflict.status_code == 409 and _error(conflict)["code"] == "idempotency_conflict"
    assert points_balance(user=person) == 700
    assert ledger_violations() == []


def test_redeeming_with_cashback(client):
    world = shop()
    reward = item(world, price_kind="cashback", price=12_500, name="Cinema night", kind="event_invitation")
    person = member(world)
    _, available = consumer_accounts(person)
    fund(available, 20_000)
    client.force_login(person)

    response = _redeem(client, reward.pk)

    assert response.status_code == 201
    assert (response.json()["price"], response.json()["currency"]) == ("125.00", "NOK")
    available.refresh_from_db()
    assert available.balance == 7_500


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ({"points": 499}, 409, "insufficient_points"),
        ({"points": 1_000, "stock": 0}, 409, "out_of_stock"),
        ({"points": 1_000, "segment": "business"}, 403, "not_eligible"),
        ({"points": 1_000, "price_kind": "cashback"}, 409, "insufficient_cashback"),
        ({"points": 1_000, "is_active": False}, 404, "not_found"),
    ],
)
def test_a_refused_redemption_is_a_clear_4xx_and_takes_nothing(client, setup, status, code):
    world = shop()
    points = setup.pop("points")
    reward = item(world, price=500, **setup)
    person = member(world, points=points)
    stock = reward.stock
    client.force_login(person)

    response = _redeem(client, reward.pk)

    assert response.status_code == status and _error(response)["code"] == code
    assert points_balance(user=person) == points
    assert RewardItem.objects.get(pk=reward.pk).stock == stock and not Redemption.objects.exists()


def test_vouchers_are_listed_masked_and_the_sms_code_opens_one_once(client, sms_outbox):
    world = shop()
    reward = item(world, price=500, code_source="uploaded")
    active_batch(world, reward, ["KOPI-7777-1234"])
    person = member(world, points=800)
    client.force_login(person)
    _redeem(client, reward.pk)
    voucher = VoucherCode.objects.get(holder=person)

    listed = client.get(VOUCHERS)
    assert listed.status_code == 200 and "KOPI-7777-1234" not in listed.content.decode()
    [row] = listed.json()["results"]
    assert (row["id"], row["masked"], row["status"]) == (voucher.pk, "••••1234", "issued")

    sent = client.post(f"{VOUCHERS}{voucher.pk}/code/")
    assert sent.status_code == 202 and sent.json()["expires_at"]
    wrong = client.post(f"{VOUCHERS}{voucher.pk}/claim/", {"code": "000000"}, content_type="application/json")
    assert wrong.status_code == 400 and _error(wrong)["code"] == "claim_code_wrong"
    assert "KOPI-7777-1234" not in wrong.content.decode()
    code = claim_code_from(sms_outbox[-1].body)
    opened = client.post(f"{VOUCHERS}{voucher.pk}/claim/", {"code": code}, content_type="application/json")
    assert opened.status_code == 200 and opened["Cache-Control"] == "no-store"
    assert opened.json()["code"] == "KOPI-7777-1234" and opened.json()["voucher"]["status"] == "claimed"

    again = client.post(f"{VOUCHERS}{voucher.pk}/claim/", {"code": code}, content_type="application/json")
    assert again.status_code == 400 and _error(again)["code"] == "claim_code_expired"
    assert "KOPI-7777-1234" not in client.get(VOUCHERS).content.decode()


def test_no_code_without_a_verified_phone_and_none_for_someone_elses_voucher(client, sms_outbox):
    world = shop()
    reward = item(world, price=100)
    holder = member(world, points=100)
    catalogue.catalogue_redeem(user=holder, item=reward, request_key="k")
    voucher = VoucherCode.objects.get(holder=holder)
    stranger = member(world)
    unverified = member(world, phone_verified=False)
    give_points(Shop(world.brand_owner, world.marketing, world.finance), unverified, 100)
    catalogue.catalogue_redeem(user=unverified, item=reward, request_key="k2")
    theirs = VoucherCode.objects.get(holder=unverified)

    client.force_login(stranger)
    assert _error(client.post(f"{VOUCHERS}{voucher.pk}/code/"))["code"] == "voucher_not_found"
    claim = client.post(f"{VOUCHERS}{voucher.pk}/claim/", {"code": "123456"}, content_type="application/json")
    assert claim.status_code == 404
    client.force_login(unverified)
    refused = client.post(f"{VOUCHERS}{theirs.pk}/code/")
    assert refused.status_code == 409 and _error(refused)["code"] == "phone_not_verified"
    bad = client.post(f"{VOUCHERS}{theirs.pk}/claim/", {"code": "12ab"}, content_type="application/json")
    assert bad.status_code == 400 and "code" in _error(bad)["fields"]
    assert sms_outbox == []
