"""/wallet/offers/: around the browser's position, a typed place or the profile's city; whether this consumer
qualifies and why not; the wider-radius suggestion when nothing is near; bad input is a form error."""

import html
import re

import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.campaigns.factories import ChallengeFactory, PurchaseFactory
from tests.geofencing.factories import OSLO, north_of, shop_with_offer
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db
URL = "/wallet/offers/"
BERGEN = ("60.391300", "5.322100")


@pytest.fixture
def consumer(client):
    user = UserFactory(city="")
    client.force_login(user)
    return user


def _text(response) -> str:
    """The page's words as a reader sees them: no tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_it_needs_a_login(client):
    response = client.get(URL)

    assert response.status_code == 302 and "login" in response["Location"]


def test_the_wallet_navigation_links_to_it(client, consumer):
    assert reverse("nearby:offers") == URL
    assert f'href="{URL}"' in client.get(reverse("wallet:home")).content.decode()


def test_without_a_place_it_asks_where(client, consumer):
    shop_with_offer(*OSLO)

    response = client.get(URL)

    assert response.status_code == 200
    assert "Tell us where you are" in _text(response)
    assert 'data-testid="nearby-offer"' not in response.content.decode()


def test_around_the_browsers_position_nearest_first_with_reasons(client, consumer):
    cafe = MerchantFactory(display_name="Kaffebrenneriet")
    shop_with_offer(*north_of(OSLO, 300), merchant=cafe, title="Coffee for newcomers", audience="new_customers")
    shop_with_offer(*north_of(OSLO, 2_000), merchant=MerchantFactory(display_name="Bokhandel"), title="Books")
    PurchaseFactory(user=consumer, merchant=cafe)

    response = client.get(URL, {"lat": str(OSLO[0]), "lng": str(OSLO[1])})

    text = _text(response)
    assert response.status_code == 200
    assert "Within 10 km of your position" in text
    assert text.index("Kaffebrenneriet") < text.index("Bokhandel")
    assert "300 m" in text and "2.0 km" in text
    assert "You don't qualify now Only for new customers — you have shopped here before." in text
    assert "You qualify" in text
    assert 'id="nearby-markers"' in response.content.decode()


def test_around_a_typed_place_or_the_profiles_city(client, consumer):
    shop_with_offer(*BERGEN, merchant=MerchantFactory(display_name="Bryggen Kaffe"))
    shop_with_offer(*OSLO, merchant=MerchantFactory(display_name="Oslo Kaffe"))

    typed = _text(client.get(URL, {"place": "Bergen"}))
    assert "Within 10 km of Bergen" in typed and "Bryggen Kaffe" in typed and "Oslo Kaffe" not in typed

    postcode = _text(client.get(URL, {"place": "5003"}))
    assert "Bryggen Kaffe" in postcode

    consumer.city = "Oslo"
    consumer.save()
    profile = _text(client.get(URL))
    assert "Within 10 km of Oslo (your profile's city)" in profile and "Oslo Kaffe" in profile


def test_an_unknown_place_is_a_form_error(client, consumer):
    response = client.get(URL, {"place": "Atlantis"})

    assert response.status_code == 400
    assert "We could not find that place" in _text(response)


@pytest.mark.parametrize(
    "query",
    [
        {"lat": "95", "lng": "10"},
        {"lat": "59.9", "lng": "east"},
        {"lat": "59.9"},
        {"lat": "59.9", "lng": "10.7", "radius_km": "7"},
        {"lat": "59.9", "lng": "10.7", "category": "spaceships"},
        {"lat": "59.9", "lng": "10.7", "page": "-1"},
    ],
)
def test_bad_input_is_a_form_error_never_a_500(client, consumer, query):
    response = client.get(URL, query)

    assert response.status_code == 400
    assert 'data-testid="nearby-offer"' not in response.content.decode()


def test_nothing_near_suggests_a_bigger_radius(client, consumer):
    shop_with_offer(*north_of(OSLO, 15_000))

    response = client.get(URL, {"lat": str(OSLO[0]), "lng": str(OSLO[1]), "radius_km": "10"})

    text = _text(response)
    assert "No offers this close" in text and "Search within 25 km" in text
    wider = client.get(URL, {"lat": str(OSLO[0]), "lng": str(OSLO[1]), "radius_km": "25"})
    assert 'data-testid="nearby-offer"' in wider.content.decode()


def test_pages_of_offers(client, consumer):
    for n in range(25):
        shop_with_offer(*north_of(OSLO, 100 * (n + 1)), merchant=MerchantFactory(display_name=f"Kafé {n:02d}"))

    first = _text(client.get(URL, {"lat": str(OSLO[0]), "lng": str(OSLO[1])}))
    second = _text(client.get(URL, {"lat": str(OSLO[0]), "lng": str(OSLO[1]), "page": "2"}))

    assert "Kafé 19" in first and "Kafé 20" not in first and "Further offers" in first
    assert "Kafé 20" in second and "Kafé 24" in second and "Kafé 19" not in second and "Nearer offers" in second


def test_the_page_costs_the_same_queries_for_many_offers(client, consumer, django_assert_max_num_queries):
    query = {"lat": str(OSLO[0]), "lng": str(OSLO[1])}
    shop_with_offer(*OSLO)
    with django_assert_max_num_queries(30) as few:
        client.get(URL, query)
    for n in range(20):
        shop_with_offer(*north_of(OSLO, 50 * (n + 1)))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL, query)


def test_another_consumer_sees_their_own_eligibility(client):
    offer_merchant = MerchantFactory()
    shop_with_offer(*OSLO, merchant=offer_merchant, audience="new_customers")
    regular, newcomer = UserFactory(), UserFactory()
    PurchaseFactory(user=regular, merchant=offer_merchant)
    query = {"lat": str(OSLO[0]), "lng": str(OSLO[1])}

    client.force_login(regular)
    assert "You don't qualify now" in _text(client.get(URL, query))
    client.force_login(newcomer)
    assert "You don't qualify now" not in _text(client.get(URL, query))


def test_an_offers_challenge_shows_the_consumers_progress_on_the_offer(client, consumer):
    _, offer = shop_with_offer(*north_of(OSLO, 300), title="Coffee")
    ChallengeFactory(offer=offer, title="Spend 1 000 kr this season", target_value=100_000, bonus_minor=5_000)

    response = client.get(URL, {"lat": str(OSLO[0]), "lng": str(OSLO[1])})

    offer_html = response.content.decode().split('data-testid="nearby-offer"', 1)[1]
    assert "Spend 1 000 kr this season" in html.unescape(offer_html)
    assert '<progress class="meter"' in offer_html
