"""The marketing admin's action rules pages, the programme admin's master data page and cancelling a
contract, through HTTP: forms, error messages, nothing half-written."""

import pytest
from django.urls import reverse
from django.utils import timezone

from programmes.models import ActionRule, Brand, Contract, Product, Region, RegionBudget
from tests.programmes.action_factories import action_rule
from tests.programmes.factories import approved_contract, programme_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return programme_world()


def _rule_post(**overrides):
    body = {
        "name": "Survey bonus",
        "action": "survey_completed",
        "value_kind": "cash",
        "value": "25.00",
        "limit_count": "2",
        "limit_period": "week",
        "active_from": timezone.localdate().isoformat(),
        "active_until": "",
        "weekdays": ["0", "2"],
    }
    body.update(overrides)
    return body


def test_the_marketing_admin_creates_a_rule_and_sees_it_listed(client, world):
    client.force_login(world.marketing_admin.user)
    merchant_id = world.brand_owner.merchant_id

    response = client.post(reverse("programmes:action_rule_create", args=[merchant_id]), _rule_post())

    assert response.status_code == 302
    rule = ActionRule.objects.get()
    assert (rule.value, rule.currency, rule.limit_count, rule.limit_period, rule.weekdays) == (
        2_500,
        "NOK",
        2,
        "week",
        0b101,
    )
    listing = client.get(reverse("programmes:action_rules", args=[merchant_id])).content.decode()
    assert "Survey bonus" in listing


def test_a_points_rule_takes_whole_points(client, world):
    client.force_login(world.marketing_admin.user)
    url = reverse("programmes:action_rule_create", args=[world.brand_owner.merchant_id])

    bad = client.post(url, _rule_post(value_kind="points", value="1.5"))
    good = client.post(url, _rule_post(value_kind="points", value="150"))

    assert bad.status_code == 200 and "whole number" in bad.content.decode()
    assert good.status_code == 302
    assert ActionRule.objects.get().value == 150


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"value": "-5"}, "above zero"),
        ({"value": "abc"}, "like 25.00"),
        ({"limit_count": "0"}, "greater than or equal to 1"),
        ({"active_until": "2000-01-01"}, "must end after it starts"),
        ({"action": "dancing"}, "Select a valid choice"),
    ],
)
def test_a_bad_rule_is_refused_with_a_message_and_nothing_is_saved(client, world, overrides, message):
    client.force_login(world.marketing_admin.user)
    response = client.post(
        reverse("programmes:action_rule_create", args=[world.brand_owner.merchant_id]), _rule_post(**overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ActionRule.objects.exists()


def test_the_marketing_admin_pauses_a_rule(client, world):
    rule = action_rule(world.marketing_admin)
    client.force_login(world.marketing_admin.user)
    url = reverse("programmes:action_rule_edit", args=[world.brand_owner.merchant_id, rule.pk])
    form = client.get(url)
    assert form.status_code == 200 and "Survey bonus" in form.content.decode()

    response = client.post(url, _rule_post(paused="on"))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.paused and rule.limit_period == "week"


def test_another_brand_owners_rule_is_404(client, world):
    other = programme_world()
    rule = action_rule(other.marketing_admin)
    client.force_login(world.marketing_admin.user)
    url = reverse("programmes:action_rule_edit", args=[world.brand_owner.merchant_id, rule.pk])
    assert client.get(url).status_code == 404


def test_the_programme_admin_adds_regions_brands_and_products(client, world):
    client.force_login(world.programme_admin.user)
    url = reverse("programmes:master_data", args=[world.brand_owner.merchant_id])

    assert client.post(url, {"form": "region", "region-name": "East"}).status_code == 302
    assert client.post(url, {"form": "brand", "brand-name": "Sunny"}).status_code == 302
    sunny = Brand.objects.get(name="Sunny")
    assert (
        client.post(
            url, {"form": "product", "product-brand": sunny.pk, "product-sku": "SUN-1", "product-name": "Sunny juice"}
        ).status_code
        == 302
    )

    page = client.get(url).content.decode()
    assert "East" in page and "Sunny juice" in page
    assert Product.objects.get(sku="SUN-1").brand == sunny


def test_a_duplicate_is_refused_on_the_form(client, world):
    client.force_login(world.programme_admin.user)
    url = reverse("programmes:master_data", args=[world.brand_owner.merchant_id])

    region = client.post(url, {"form": "region", "region-name": "North"})
    product = client.post(
        url,
        {"form": "product", "product-brand": world.soap.brand_id, "product-sku": "LUMI-SOAP", "product-name": "x"},
    )

    assert region.status_code == 200 and "already exists" in region.content.decode()
    assert product.status_code == 200 and "already exists" in product.content.decode()
    assert Region.objects.filter(brand_owner=world.brand_owner).count() == 2


def test_the_regional_head_cancels_a_contract_and_the_budget_gets_it_back(client, world):
    contract = approved_contract(world)
    client.force_login(world.head_north.user)
    url = reverse("programmes:contract_cancel", args=[world.brand_owner.merchant_id, contract.pk])

    no_reason = client.post(url, {"reason": ""})
    done = client.post(url, {"reason": "The shop closed"})

    assert no_reason.status_code == 200
    assert done.status_code == 302
    contract.refresh_from_db()
    assert contract.status == Contract.Status.CANCELLED
    assert RegionBudget.objects.get(programme=world.programme, region=world.north).committed_minor == 0
    detail = client.get(reverse("programmes:contract", args=[world.brand_owner.merchant_id, contract.pk]))
    assert "The shop closed" in detail.content.decode()


def test_sales_cannot_cancel(client, world):
    contract = approved_contract(world)
    client.force_login(world.sales_north.user)
    url = reverse("programmes:contract_cancel", args=[world.brand_owner.merchant_id, contract.pk])
    assert client.post(url, {"reason": "x"}).status_code == 403
