import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Consent
from tests.accounts.factories import ConsentFactory, UserFactory

pytestmark = pytest.mark.django_db


def profile_data(**overrides) -> dict:
    data = {"full_name": "Ada Lovelace", "birth_year": "1990", "gender": "female", "city": "Oslo", "language": "nb"}
    data.update(overrides)
    return data


def test_profile_requires_login(client):
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert reverse("account_login") in response.url


def test_profile_shows_the_consents_in_force(client):
    user = UserFactory()
    ConsentFactory(user=user, kind=Consent.Kind.TERMS, version="2026-11")
    client.force_login(user)

    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 200
    assert "Terms of service" in response.content.decode()
    assert [c.kind for c in response.context["consents"]] == ["terms"]


def test_profile_update_saves_the_segmentation_fields(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("accounts:profile"), profile_data())

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.birth_year, user.gender, user.city, user.language) == (
        "Ada Lovelace",
        1990,
        "female",
        "Oslo",
        "nb",
    )


@pytest.mark.parametrize("birth_year", ["1850", "2025", "year"])
def test_profile_update_rejects_an_implausible_birth_year(client, birth_year):
    user = UserFactory(birth_year=None)
    client.force_login(user)

    response = client.post(reverse("accounts:profile"), profile_data(birth_year=birth_year))

    assert response.status_code == 200
    assert response.context["form"].errors["birth_year"]
    user.refresh_from_db()
    assert user.birth_year is None


def test_marketing_consent_is_given_then_withdrawn_with_history_kept(client):
    user = UserFactory()
    ConsentFactory(user=user, kind=Consent.Kind.MARKETING, granted=False, version=settings.MARKETING_CONSENT_VERSION)
    client.force_login(user)

    client.post(reverse("accounts:profile"), profile_data(marketing="on"))
    client.post(reverse("accounts:profile"), profile_data())  # box unticked: withdraw
    client.post(reverse("accounts:profile"), profile_data())  # unchanged: no new row

    history = list(user.consents.filter(kind=Consent.Kind.MARKETING).order_by("id").values_list("granted", flat=True))
    assert history == [False, True, False]
    response = client.get(reverse("accounts:profile"))
    assert response.context["form"].initial["marketing"] is False
