"""The demo shops make the public map and list worth looking at."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_demo_has_shops_in_several_cities_with_every_kind_of_offer(client):
    call_command("seed_demo", stdout=StringIO())

    markers = client.get(reverse("shops:markers")).json()["markers"]
    cities = {marker["address"].rsplit(" ", 1)[-1] for marker in markers}
    assert len(markers) >= 40
    assert {"Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Kristiansand"} <= cities
    assert client.get(reverse("shops:list")).context["page"].paginator.count >= 28
    for offer_type in ("percent", "fixed", "charity"):
        assert client.get(reverse("shops:list"), {"offer_type": offer_type}).context["page"].paginator.count >= 3
    coffee = client.get(reverse("shops:detail", args=["morgenkaffe"])).content.decode()
    assert "Mon\u2013Fri 07\u201310" in coffee
    assert "Twelve cups" in coffee
    assert "goes to Skolebenken" in client.get(reverse("shops:detail", args=["gronn-kurv"])).content.decode()
