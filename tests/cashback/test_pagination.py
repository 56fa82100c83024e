"""Every list's page and page size: a wrong one is refused with 400 in the error format, never ignored."""

import pytest

from tests.wallet.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def consumer_client(client):
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page": "two"}, "page"),
        ({"page": 0}, "page"),
        ({"page": "last"}, "page"),
        ({"page": 2}, "page"),  # the only page is 1 (an empty list has one page)
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/payouts/", "/api/v1/charities/", "/api/v1/wallet/entries/"])
def test_a_wrong_page_or_page_size_is_refused(consumer_client, path, query, field):
    response = consumer_client.get(path, query)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_a_page_size_in_range_is_used(consumer_client):
    response = consumer_client.get("/api/v1/charities/", {"page_size": 100, "page": 1})

    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}


def test_the_schema_documents_lists_as_paginated_with_bounded_parameters(client):
    schema = client.get("/api/schema/?format=json").json()

    for path in ("/api/v1/charities/", "/api/v1/donations/", "/api/v1/payouts/"):
        operation = schema["paths"][path]["get"]
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert body["$ref"].startswith("#/components/schemas/Paginated"), path
        parameters = {parameter["name"]: parameter["schema"] for parameter in operation["parameters"]}
        assert parameters["page"] == {"type": "integer", "minimum": 1}
        assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}
        assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ApiError"
        }
