"""`make run` (DEBUG on) shows the house 404 and 500 pages, not Django's technical ones."""

import pytest
from django.http import Http404
from django.urls import include, path

pytestmark = pytest.mark.django_db


def _fails(request):
    raise RuntimeError("a bug in a view")


def _not_there(request):
    raise Http404("no such purchase")


urlpatterns = [
    path("boom/", _fails),
    path("gone/", _not_there),
    path("", include("cashback.urls")),
]


@pytest.fixture
def embedded_run(settings):
    """The settings `make run` serves with."""
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__


def test_a_mistyped_url_shows_the_house_404_under_the_csp(client, embedded_run):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "We can&#x27;t find that page" in body or "We can't find that page" in body
    assert "technical" not in body.lower() and "URLconf" not in body
    assert "Content-Security-Policy" in response.headers


def test_a_view_raising_not_found_shows_the_house_404(client, embedded_run):
    response = client.get("/gone/")

    assert response.status_code == 404
    assert "find that page" in response.content.decode()
    assert "no such purchase" not in response.content.decode()


def test_a_failing_view_shows_the_house_500_and_logs_the_traceback(client, embedded_run, caplog):
    response = client.get("/boom/")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "a bug in a view" not in response.content.decode()
    assert any(record.exc_info and "a bug in a view" in str(record.exc_info[1]) for record in caplog.records)


def test_an_unknown_api_path_still_answers_json(client, embedded_run):
    response = client.get("/api/v1/no-such-endpoint/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_technical_pages_come_back_when_asked_for(client, embedded_run, settings):
    settings.HOUSE_ERROR_PAGES = False

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "find that page" not in response.content.decode()
