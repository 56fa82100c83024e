"""A programme may count products, not only brands: the set-up page offers the brand owner's products."""

import datetime

import pytest
from django.urls import reverse

from programmes.models import Programme
from tests.programmes.factories import programme_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return programme_world()


def _post(world, **changes):
    data = {
        "name": "Shampoo push",
        "target_kind": "volume",
        "starts_on": world.today.isoformat(),
        "ends_on": (world.today + datetime.timedelta(days=30)).isoformat(),
        "threshold_1": "50",
        "reward_1": "100.00",
        f"budget_{world.north.pk}": "5000.00",
    }
    return {**data, **changes}


def test_a_programme_of_products_only(client, world):
    client.force_login(world.programme_admin.user)
    url = reverse("programmes:programme_create", args=[world.brand_owner.merchant_id])

    form = client.get(url).content.decode()
    response = client.post(url, _post(world, products=[world.shampoo.pk]))

    assert "LUMI-SH Lumi shampoo" in form
    assert response.status_code == 302
    programme = Programme.objects.get(name="Shampoo push")
    assert list(programme.products.all()) == [world.shampoo]
    assert not programme.brands.exists()


def test_neither_brands_nor_products_is_a_form_error(client, world):
    client.force_login(world.programme_admin.user)

    response = client.post(reverse("programmes:programme_create", args=[world.brand_owner.merchant_id]), _post(world))

    assert response.status_code == 200
    assert "Name the brands or products that count." in response.content.decode()
    assert not Programme.objects.filter(name="Shampoo push").exists()


def test_another_brand_owners_product_is_refused(client, world):
    other = programme_world()
    client.force_login(world.programme_admin.user)

    response = client.post(
        reverse("programmes:programme_create", args=[world.brand_owner.merchant_id]),
        _post(world, products=[other.shampoo.pk]),
    )

    assert response.status_code == 200
    assert not Programme.objects.filter(name="Shampoo push").exists()
