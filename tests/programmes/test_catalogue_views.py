"""The catalogue's pages: the member browses, redeems and claims a voucher with the SMS code; marketing and
finance manage items and codes — each role only what it may (no role: 404, another role: 403)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cashback.providers.sms import FakeSmsClient
from cashback.sealed_text import unseal
from programmes import services
from programmes.catalogue_models import Redemption, RewardItem, VoucherBatch, VoucherCode
from tests.accounts.factories import UserFactory
from tests.programmes.catalogue_factories import active_batch, claim_code_from, item, member, shop
from wallet.points import points_balance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_outbox():
    FakeSmsClient.clear()
    yield FakeSmsClient.outbox
    FakeSmsClient.clear()


def _request_key(content: str) -> str:
    match = re.search(r'name="request_key" value="([0-9a-f]{32})"', content)
    assert match, "the confirmation carries its key"
    return match.group(1)


def test_the_catalogue_needs_a_login(client):
    assert client.get(reverse("catalogue:browse")).status_code == 302


def test_a_member_browses_redeems_and_opens_the_voucher_with_the_sms_code(client, sms_outbox):
    world = shop()
    reward = item(world, price=500, name="Kopi voucher", code_source="uploaded")
    active_batch(world, reward, ["KOPI-7777-1234"])
    person = member(world, points=800)
    client.force_login(person)

    browse = client.get(reverse("catalogue:browse")).content.decode()
    assert "Kopi voucher" in browse and "800 points" in browse
    confirm = client.get(reverse("catalogue:redeem", args=[reward.pk])).content.decode()
    assert "300" in confirm  # the points after
    response = client.post(reverse("catalogue:redeem", args=[reward.pk]), {"request_key": _request_key(confirm)})

    voucher = VoucherCode.objects.get(holder=person)
    assert response.status_code == 302 and response["Location"] == reverse("catalogue:voucher", args=[voucher.pk])
    assert points_balance(user=person) == 300
    page = client.get(reverse("catalogue:voucher", args=[voucher.pk])).content.decode()
    assert "••••1234" in page and "KOPI-7777-1234" not in page
    client.post(reverse("catalogue:voucher_send_code", args=[voucher.pk]))
    wrong = client.post(reverse("catalogue:voucher", args=[voucher.pk]), {"code": "000000"}).content.decode()
    assert "not right" in wrong and "KOPI-7777-1234" not in wrong
    opened = client.post(
        reverse("catalogue:voucher", args=[voucher.pk]), {"code": claim_code_from(sms_outbox[-1].body)}
    )
    assert "KOPI-7777-1234" in opened.content.decode()
    assert "no-store" in opened["Cache-Control"]
    listing = client.get(reverse("catalogue:vouchers")).content.decode()
    assert "••••1234" in listing and "KOPI-7777-1234" not in listing
    again = client.get(reverse("catalogue:voucher", args=[voucher.pk])).content.decode()
    assert "KOPI-7777-1234" not in again  # shown in full once


def test_not_enough_points_is_a_form_error_and_nothing_is_taken(client):
    world = shop()
    reward = item(world, price=500)
    person = member(world, points=100)
    client.force_login(person)
    confirm = client.get(reverse("catalogue:redeem", args=[reward.pk])).content.decode()

    response = client.post(reverse("catalogue:redeem", args=[reward.pk]), {"request_key": _request_key(confirm)})

    assert response.status_code == 200 and "not have enough points" in response.content.decode()
    assert points_balance(user=person) == 100 and not Redemption.objects.exists()


def test_a_double_click_is_one_redemption(client):
    world = shop()
    reward = item(world, price=100)
    person = member(world, points=1_000)
    client.force_login(person)
    key = _request_key(client.get(reverse("catalogue:redeem", args=[reward.pk])).content.decode())

    client.post(reverse("catalogue:redeem", args=[reward.pk]), {"request_key": key})
    client.post(reverse("catalogue:redeem", args=[reward.pk]), {"request_key": key})

    assert Redemption.objects.count() == 1 and points_balance(user=person) == 900


def test_a_tampered_confirmation_is_a_form_error(client):
    world = shop()
    reward = item(world, price=100)
    client.force_login(member(world, points=1_000))

    response = client.post(reverse("catalogue:redeem", args=[reward.pk]), {"request_key": "x' OR 1=1"})

    assert response.status_code == 200 and not Redemption.objects.exists()


def test_someone_elses_voucher_is_not_found(client):
    world = shop()
    reward = item(world, price=10)
    owner = member(world, points=10)
    from programmes.catalogue import catalogue_redeem

    voucher = catalogue_redeem(user=owner, item=reward, request_key="k").voucher
    client.force_login(member(world))

    assert client.get(reverse("catalogue:voucher", args=[voucher.pk])).status_code == 404
    assert client.post(reverse("catalogue:voucher_send_code", args=[voucher.pk])).status_code == 404


def test_the_points_card_links_to_the_catalogue(client):
    world = shop()
    client.force_login(member(world, points=5))

    assert reverse("catalogue:browse") in client.get(reverse("wallet:home")).content.decode()


# --- The brand owner's pages ----------------------------------------------------------------------


def _item_post(**overrides):
    data = {
        "name": "Cinema night",
        "kind": "event_invitation",
        "description": "",
        "price_kind": "points",
        "price": "750",
        "stock": "20",
        "valid_from": "2026-01-01",
        "valid_until": "2036-01-01",
        "code_source": "generated",
        "segment": "everyone",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_who_may_open_the_catalogue_pages(client):
    world = shop()
    merchant_id = world.brand_owner.merchant_id
    sales = services.field_role_grant(
        brand_owner=world.brand_owner,
        user=UserFactory(),
        role="sales",
        regions=[services.region_create(brand_owner=world.brand_owner, name="North")],
    )
    reward = item(world)
    pages = {
        "items": reverse("catalogue_admin:items", args=[merchant_id]),
        "create": reverse("catalogue_admin:item_create", args=[merchant_id]),
        "codes": reverse("catalogue_admin:codes", args=[merchant_id, reward.pk]),
    }
    expected = {
        world.marketing.user: {"items": 200, "create": 200, "codes": 200},
        world.finance.user: {"items": 200, "create": 403, "codes": 200},
        sales.user: {"items": 403, "create": 403, "codes": 403},
        UserFactory(): {"items": 404, "create": 404, "codes": 404},
    }
    for person, statuses in expected.items():
        client.force_login(person)
        assert {name: client.get(url).status_code for name, url in pages.items()} == statuses


def test_marketing_adds_an_item_and_bad_values_are_form_errors(client):
    world = shop()
    client.force_login(world.marketing.user)
    url = reverse("catalogue_admin:item_create", args=[world.brand_owner.merchant_id])

    bad = client.post(url, _item_post(price="12.5", valid_until="2020-01-01"))
    good = client.post(url, _item_post())

    assert bad.status_code == 200 and "whole points" in bad.content.decode()
    assert good.status_code == 302
    reward = RewardItem.objects.get()
    assert (reward.price, reward.currency, reward.stock) == (750, "PTS", 20)


def test_a_cashback_price_is_read_in_the_owners_currency(client):
    world = shop()
    client.force_login(world.marketing.user)

    client.post(
        reverse("catalogue_admin:item_create", args=[world.brand_owner.merchant_id]),
        _item_post(price_kind="cashback", price="125.50"),
    )

    assert RewardItem.objects.values_list("price", "currency").get() == (12_550, "NOK")


def test_an_upload_with_duplicates_lists_the_lines_and_stores_nothing(client):
    world = shop()
    reward = item(world, code_source="uploaded")
    client.force_login(world.marketing.user)
    upload = SimpleUploadedFile("codes.csv", b"code\nAAAA1\nBBBB2\nAAAA1\n", content_type="text/csv")

    response = client.post(
        reverse("catalogue_admin:codes_upload", args=[world.brand_owner.merchant_id, reward.pk]), {"file": upload}
    )

    content = response.content.decode()
    assert response.status_code == 400 and "Duplicate code" in content and "Lines to correct" in content
    assert not VoucherCode.objects.exists()


def test_finance_activates_an_uploaded_batch_and_the_codes_stay_masked(client):
    world = shop()
    reward = item(world, code_source="uploaded")
    client.force_login(world.marketing.user)
    client.post(
        reverse("catalogue_admin:codes_upload", args=[world.brand_owner.merchant_id, reward.pk]),
        {"file": SimpleUploadedFile("codes.csv", b"SECRET-CODE-0042\n", content_type="text/csv")},
    )
    batch = VoucherBatch.objects.get()
    client.force_login(world.finance.user)

    client.post(reverse("catalogue_admin:batch_activate", args=[world.brand_owner.merchant_id, batch.pk]))
    page = client.get(reverse("catalogue_admin:codes", args=[world.brand_owner.merchant_id, reward.pk]))

    code = VoucherCode.objects.get()
    assert code.status == VoucherCode.Status.ACTIVE and unseal(code.sealed) == "SECRET-CODE-0042"
    assert "••••0042" in page.content.decode() and "SECRET-CODE" not in page.content.decode()
    client.post(reverse("catalogue_admin:code_void", args=[world.brand_owner.merchant_id, code.pk]))
    assert VoucherCode.objects.get().status == VoucherCode.Status.VOIDED


def test_marketing_cannot_activate_and_finance_cannot_upload(client):
    world = shop()
    reward = item(world, code_source="uploaded")
    batch = active_batch(world, item(world, name="Other", code_source="uploaded"), ["ZZZZ1"])
    merchant_id = world.brand_owner.merchant_id

    client.force_login(world.marketing.user)
    assert client.post(reverse("catalogue_admin:batch_void", args=[merchant_id, batch.pk])).status_code == 403
    client.force_login(world.finance.user)
    upload = SimpleUploadedFile("codes.csv", b"AAAA1\n", content_type="text/csv")
    response = client.post(reverse("catalogue_admin:codes_upload", args=[merchant_id, reward.pk]), {"file": upload})
    assert response.status_code == 403 and VoucherCode.objects.count() == 1


def test_the_programme_form_sets_up_points_and_e_voucher_tiers():
    from django.test import Client

    from programmes.models import Programme
    from tests.programmes.catalogue_factories import spec
    from tests.programmes.factories import programme_world

    world = programme_world()
    from programmes import catalogue

    voucher_item = catalogue.reward_item_create(role=world.marketing_admin, spec=spec(name="Kopi"))
    client = Client()
    client.force_login(world.programme_admin.user)
    url = reverse("programmes:programme_create", args=[world.brand_owner.merchant_id])
    data = {
        "name": "Points push",
        "target_kind": "volume",
        "starts_on": world.today.isoformat(),
        "ends_on": world.programme.ends_on.isoformat(),
        "brands": [world.soap.brand_id],
        "threshold_1": "50",
        "reward_1": "100.00",
        "reward_kind_1": "points",
        "reward_points_1": "400",
        "threshold_2": "90",
        "reward_2": "50.00",
        "reward_kind_2": "e_voucher",
        "reward_item_2": str(voucher_item.pk),
    }

    without_points = client.post(url, {**data, "reward_points_1": ""})
    response = client.post(url, data)

    assert without_points.status_code == 200 and "points above zero" in without_points.content.decode()
    assert response.status_code == 302
    tiers = Programme.objects.get(name="Points push").tiers.order_by("rank")
    assert [(t.reward_kind, t.reward_points, t.reward_item_id) for t in tiers] == [
        ("points", 400, None),
        ("e_voucher", None, voucher_item.pk),
    ]
