"""The programme admin renames regions, brands and products and removes one only when nothing uses it."""

import pytest
from django.urls import reverse

from programmes import master_data
from programmes.models import Brand, Product, Region
from tests.programmes.factories import approved_contract, programme_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return programme_world()


def _url(world, kind: str, item_id: int) -> str:
    return reverse("programmes:master_item", args=[world.brand_owner.merchant_id, kind, item_id])


def test_the_programme_admin_renames_a_region_brand_and_product(client, world):
    client.force_login(world.programme_admin.user)

    for kind, item, new in (
        ("region", world.north, "Nord"),
        ("brand", world.soap.brand, "Lumi Care"),
        ("product", world.soap, "Lumi soap 200 ml"),
    ):
        response = client.post(_url(world, kind, item.pk), {"name": f"  {new} ", "action": "rename"})
        assert response.status_code == 302, kind
        item.refresh_from_db()
        assert item.name == new

    assert [brand.name for brand in world.programme.brands.all()] == ["Lumi Care"]


def test_a_duplicate_or_empty_name_is_a_form_error_and_nothing_changes(client, world):
    client.force_login(world.programme_admin.user)

    duplicate = client.post(_url(world, "region", world.north.pk), {"name": "South", "action": "rename"})
    empty = client.post(_url(world, "brand", world.soap.brand_id), {"name": " ", "action": "rename"})

    assert duplicate.status_code == 200 and "One with this name already exists." in duplicate.content.decode()
    assert empty.status_code == 200 and "Give the new name." in empty.content.decode()
    world.north.refresh_from_db()
    assert world.north.name == "North"
    assert Brand.objects.get(pk=world.soap.brand_id).name == "Lumi"


def test_removing_what_is_used_names_the_users_and_removes_nothing(client, world):
    approved_contract(world)
    client.force_login(world.programme_admin.user)

    region = client.post(_url(world, "region", world.north.pk), {"action": "remove"})
    brand = client.post(_url(world, "brand", world.soap.brand_id), {"action": "remove"})

    assert region.status_code == 200
    text = region.content.decode()
    assert "North cannot be removed: 1 customer, 1 programme budget, 3 people&#x27;s roles still use it." in text
    assert "Lumi cannot be removed: 2 products, 1 programme still use it." in brand.content.decode()
    assert Region.objects.filter(pk=world.north.pk).exists()
    assert Brand.objects.filter(pk=world.soap.brand_id).exists()


def test_what_nothing_uses_is_removed(client, world):
    client.force_login(world.programme_admin.user)
    spare = master_data.region_add(role=world.programme_admin, name="West")

    response = client.post(_url(world, "region", spare.pk), {"action": "remove"})
    product = client.post(_url(world, "product", world.other.pk), {"action": "remove"})

    assert response.status_code == 302
    assert product.status_code == 302
    assert not Region.objects.filter(pk=spare.pk).exists()
    assert not Product.objects.filter(pk=world.other.pk).exists()


def test_only_the_programme_admin_of_that_brand_owner_may(client, world):
    other = programme_world()
    client.force_login(world.marketing_admin.user)
    assert client.post(_url(world, "region", world.north.pk), {"action": "remove"}).status_code == 403
    client.force_login(world.programme_admin.user)
    assert client.get(_url(world, "region", other.north.pk)).status_code == 404
    assert client.get(_url(world, "shop", world.north.pk)).status_code == 404
    assert Region.objects.filter(pk=other.north.pk).exists()
