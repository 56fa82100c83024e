"""The programme admin takes a role away: the person loses the pages, the team's history keeps it, and
the last programme admin cannot be removed."""

import pytest
from django.urls import reverse

from programmes import services
from programmes.models import FieldRole, FieldRoleChange
from tests.accounts.factories import UserFactory
from tests.programmes.factories import programme_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return programme_world()


def _remove(client, world, field_role):
    return client.post(
        reverse("programmes:team_role_remove", args=[world.brand_owner.merchant_id, field_role.pk]), follow=True
    )


def test_removing_a_role_shuts_the_pages_and_is_in_the_history(client, world):
    sales = world.sales_north
    client.force_login(world.programme_admin.user)

    page = _remove(client, world, sales).content.decode()

    assert "Sam North no longer has a role." in page
    assert not FieldRole.objects.filter(pk=sales.pk).exists()
    change = FieldRoleChange.objects.get(action="removed")
    assert (change.person, change.actor, change.role) == (sales.user, world.programme_admin.user, "sales")
    assert 'data-change="removed"' in page
    client.force_login(sales.user)
    assert client.get(reverse("programmes:contracts", args=[world.brand_owner.merchant_id])).status_code == 404


def test_granting_through_the_team_page_is_in_the_history_too(client, world):
    newcomer = UserFactory(email="nina@example.com")
    client.force_login(world.programme_admin.user)

    client.post(
        reverse("programmes:team", args=[world.brand_owner.merchant_id]),
        {"email": "nina@example.com", "role": "marketing_admin"},
    )

    assert FieldRoleChange.objects.filter(person=newcomer, action="granted", role="marketing_admin").exists()


def test_the_last_programme_admin_cannot_be_removed(client, world):
    admin = world.programme_admin
    client.force_login(admin.user)

    page = _remove(client, world, admin).content.decode()

    assert "The last programme admin cannot be removed" in page
    assert FieldRole.objects.filter(pk=admin.pk).exists()
    assert not FieldRoleChange.objects.filter(action="removed").exists()


def test_with_a_second_admin_one_may_go(client, world):
    second = services.field_role_grant(brand_owner=world.brand_owner, user=UserFactory(), role="programme_admin")
    client.force_login(world.programme_admin.user)

    _remove(client, world, second)

    assert not FieldRole.objects.filter(pk=second.pk).exists()


def test_only_the_programme_admin_removes_roles(client, world):
    client.force_login(world.marketing_admin.user)
    url = reverse("programmes:team_role_remove", args=[world.brand_owner.merchant_id, world.sales_north.pk])

    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 405
    other = programme_world()
    client.force_login(world.programme_admin.user)
    foreign = reverse("programmes:team_role_remove", args=[world.brand_owner.merchant_id, other.sales_north.pk])
    assert client.post(foreign).status_code == 404
    assert FieldRole.objects.filter(pk=world.sales_north.pk).exists()
