import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_documents_the_mobile_api(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "Cashback platform API"
    assert {"/api/v1/me/", "/api/v1/wallet/", "/api/v1/wallet/entries/"} <= set(schema["paths"])


def test_the_api_docs_page_loads_its_assets_from_our_own_origin(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert not [source for source in sources if source.startswith(("http:", "https:", "//"))]


def test_unknown_api_paths_answer_json_404(client):
    response = client.get("/api/v1/does-not-exist/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_without_credentials_answers_401_in_the_error_format(client):
    response = client.get("/api/v1/wallet/")

    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_paths_answer_json_404_whatever_the_method_and_debug(client, settings, method, debug):
    settings.DEBUG = debug  # with DEBUG on, Django's own 404 is an HTML page

    response = getattr(client, method)("/api/v1/no-such-thing/", content_type="application/json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_a_missing_slash_answers_json_404_that_names_the_path_with_the_slash(client):
    response = client.post("/api/v1/wallet", content_type="application/json")

    assert response.status_code == 404
    assert "/api/v1/wallet/" in response.json()["error"]["message"]


def test_a_method_an_endpoint_does_not_offer_answers_405_in_the_error_format(client):
    response = client.put("/api/v1/charities/", content_type="application/json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_every_documented_4xx_has_the_error_body_and_throttled_writes_document_429(client):
    schema = client.get("/api/schema/?format=json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
    payout = schema["paths"]["/api/v1/payouts/"]["post"]["responses"]
    assert "Retry-After" in payout["429"]["headers"]
    assert "429" not in schema["paths"]["/api/v1/payouts/"]["get"]["responses"]  # only writes are limited
    assert "401" not in schema["paths"]["/api/v1/charities/"]["get"]["responses"]  # open to everyone
    assert "404" in schema["paths"]["/api/v1/purchases/{purchase_id}/"]["get"]["responses"]
    error = schema["components"]["schemas"]["ApiError"]
    assert error["required"] == ["error"]


def test_required_headers_and_security_schemes_are_marked(client):
    schema = client.get("/api/schema/?format=json").json()

    order = schema["paths"]["/api/v1/partner/orders/"]["post"]
    idempotency = next(p for p in order["parameters"] if p["name"] == "Idempotency-Key")
    assert idempotency["in"] == "header" and idempotency["required"] is True
    schemes = schema["components"]["securitySchemes"]
    assert schemes["sessionToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Session-Token",
        "description": schemes["sessionToken"]["description"],
    }
