"""The real card-network client, against constructed answers at requests' transport (no network)."""

import base64
import json

import pytest
import requests
from requests.adapters import BaseAdapter

from cashback.providers.card_network import (
    CardDetails,
    CardNetworkError,
    CardTokenInvalidError,
    VisaCardNetwork,
    get_card_network,
)

TOKEN = "ctok_visa_live_abc123"


class StubTransport(BaseAdapter):
    """Answers every request with the next canned (status, body) and keeps the requests it got."""

    def __init__(self, *answers) -> None:
        super().__init__()
        self.answers = list(answers)
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


def _client(*answers):
    transport = StubTransport(*answers)
    session = requests.Session()
    session.mount("https://", transport)
    client = VisaCardNetwork(
        base_url="https://sandbox.api.visa.test/", user_id="user", password="secret", session=session
    )
    return client, transport


def _active(**card):
    return {
        "status": "active",
        "card": {
            "token": TOKEN,
            "firstNumbers": "424242",
            "lastNumbers": "4242",
            "expirationMonth": "07",
            "expirationYear": 2031,
            "scheme": "VISA",
            **card,
        },
    }


def test_lookup_posts_the_token_with_basic_auth_and_reads_the_card():
    client, transport = _client((200, _active()))

    details = client.card_lookup(TOKEN)

    assert details == CardDetails(
        token=TOKEN, first_six="424242", last_four="4242", exp_month=7, exp_year=2031, scheme="visa"
    )
    (request,) = transport.requests
    assert request.method == "POST"
    assert request.url == "https://sandbox.api.visa.test/vop/v1/tokens/lookup"
    assert json.loads(request.body) == {"cardToken": TOKEN}
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"user:secret").decode()


@pytest.mark.parametrize(
    "answer",
    [
        (404, {"error": "unknown token"}),
        (410, {}),
        (200, {"status": "deleted", "card": {}}),
    ],
)
def test_an_unknown_or_inactive_token_is_invalid(answer):
    client, _ = _client(answer)

    with pytest.raises(CardTokenInvalidError):
        client.card_lookup(TOKEN)


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"error": "down"}),
        (401, {"error": "bad credentials"}),
        (200, b"<html>not json</html>"),
        (200, {"status": "active"}),
        (200, _active(firstNumbers="42424")),
        (200, _active(token="ctok_someone_else")),
        requests.ConnectionError("no route"),
        requests.Timeout("slow"),
    ],
)
def test_network_trouble_is_a_card_network_error(answer):
    client, _ = _client(answer)

    with pytest.raises(CardNetworkError):
        client.card_lookup(TOKEN)


def test_enrolment_is_not_offered_by_the_real_network():
    client, transport = _client()

    with pytest.raises(CardNetworkError):
        client.enrol("4242424242424242", 12, 2030)
    assert transport.requests == []


def test_the_setting_picks_the_real_client_with_its_configuration(settings):
    settings.CARD_NETWORK_PROVIDER = "visa"
    settings.VISA_API_BASE_URL = "https://api.visa.test"
    settings.VISA_API_USER_ID = "u"
    settings.VISA_API_PASSWORD = "p"
    settings.VISA_API_CERT_FILE = "/etc/visa/cert.pem"
    settings.VISA_API_KEY_FILE = "/etc/visa/key.pem"

    client = get_card_network()

    assert isinstance(client, VisaCardNetwork)
    assert client.base_url == "https://api.visa.test"
    assert client.session.auth == ("u", "p")
    assert client.session.cert == ("/etc/visa/cert.pem", "/etc/visa/key.pem")
