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
