"""POST /api/v1/partner/events/ through HTTP: API key, Idempotency-Key, validation, the member, and what
the brand owner's action rules made of the event; the member reads it in GET /api/v1/actions/ and on
/wallet/actions/."""

import datetime

import pytest
from django.utils import timezone

from merchants.models import PartnerRequest
from programmes.models import ActionOutcome, ActionReport
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantApiKeyFactory, api_key_headers
from tests.programmes.action_factories import action_rule
from tests.programmes.factories import programme_world
from wallet.models import JournalTransaction

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/partner/events/"


@pytest.fixture
def world():
    return programme_world()


@pytest.fixture
def api_key(world):
    return MerchantApiKeyFactory(merchant=world.brand_owner.merchant)


@pytest.fixture
def member():
    return UserFactory(email="kari.nordmann@example.com")


def _event(**overrides):
    body = {
        "event_id": "survey-2026-11-kari",
        "action": "survey_completed",
        "customer": {"email": "kari.nordmann@example.com"},
        "description": "Shampoo survey",
    }
    body.update(overrides)
    return body


def _post(client, key, body, idempotency_key="idem-1"):
    extra = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
    return client.post(EVENTS, body, content_type="application/json", **api_key_headers(key, **extra))


def test_a_survey_reported_by_the_partner_earns_the_rules_reward(client, world, api_key, member):
    action_rule(world.marketing_admin, value=2_500, name="Survey bonus")

    response = _post(client, api_key, _event())

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["event_id"] == "survey-2026-11-kari"
    assert body["outcomes"] == [
        {"rule": "Survey bonus", "result": "awarded", "value_kind": "cash", "amount": "25.00", "currency": "NOK"}
    ]
    assert ActionReport.objects.get().description == "Shampoo survey"


def test_a_replayed_key_gets_the_first_answer_and_another_body_409(client, world, api_key, member):
    action_rule(world.marketing_admin)
    first = _post(client, api_key, _event())

    replay = _post(client, api_key, _event())
    conflict = _post(client, api_key, _event(event_id="other"))

    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_conflict"
    assert ActionReport.objects.count() == 1 and JournalTransaction.objects.count() == 1


def test_the_same_event_under_a_new_key_earns_nothing_again(client, world, api_key, member):
    action_rule(world.marketing_admin, limit_count=5)
    _post(client, api_key, _event(), idempotency_key="a")

    again = _post(client, api_key, _event(), idempotency_key="b")

    assert again.status_code == 200
    assert again.json()["outcomes"][0]["result"] == "awarded"
    assert ActionOutcome.objects.count() == 1 and JournalTransaction.objects.count() == 1


def test_the_same_event_id_for_another_member_is_409(client, world, api_key, member):
    UserFactory(email="ola@example.com")
    _post(client, api_key, _event(), idempotency_key="a")

    response = _post(client, api_key, _event(customer={"email": "ola@example.com"}), idempotency_key="b")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "action_already_reported"


def test_above_the_limit_the_answer_says_limit_reached_and_nothing_is_paid(client, world, api_key, member):
    action_rule(world.marketing_admin, limit_count=1, limit_period="day")
    _post(client, api_key, _event(event_id="s-1"), idempotency_key="a")

    response = _post(client, api_key, _event(event_id="s-2"), idempotency_key="b")

    assert response.status_code == 201
    assert response.json()["outcomes"][0] == {
        "rule": "Survey bonus",
        "result": "limit_reached",
        "value_kind": "",
        "amount": None,
        "currency": "",
    }
    assert JournalTransaction.objects.count() == 1


def test_an_unknown_member_is_404_and_nothing_is_recorded(client, world, api_key):
    action_rule(world.marketing_admin)

    response = _post(client, api_key, _event(customer={"email": "nobody@example.com"}))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"
    assert not ActionReport.objects.exists() and not JournalTransaction.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"action": "birthday"}, "action"),
        ({"action": "dancing"}, "action"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "has space"}, "event_id"),
        ({"customer": {}}, "customer"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"description": "x" * 201}, "description"),
    ],
)
def test_a_bad_payload_is_400_naming_the_field(client, world, api_key, member, overrides, field):
    response = _post(client, api_key, _event(**overrides))

    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"]
    assert not ActionReport.objects.exists() and not PartnerRequest.objects.exists()


def test_an_event_in_the_future_is_400(client, world, api_key, member):
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    response = _post(client, api_key, _event(occurred_at=future))
    assert response.status_code == 400
    assert "occurred_at" in response.json()["error"]["fields"]


def test_without_an_idempotency_key_the_answer_is_400(client, world, api_key, member):
    response = _post(client, api_key, _event(), idempotency_key=None)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


def test_without_an_api_key_the_answer_is_401(client, member):
    response = client.post(EVENTS, _event(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 401


def test_a_partner_that_runs_no_programme_is_told_no_rule(client, member):
    response = _post(client, MerchantApiKeyFactory(), _event())
    assert response.status_code == 201
    assert response.json()["outcomes"][0]["result"] == "no_rule"


def test_the_member_reads_their_actions_log_in_the_api_and_the_wallet(client, world, api_key, member):
    action_rule(world.marketing_admin, limit_count=1, limit_period="day")
    _post(client, api_key, _event(event_id="s-1"), idempotency_key="a")
    _post(client, api_key, _event(event_id="s-2", action="social_share"), idempotency_key="b")
    _post(client, api_key, _event(event_id="s-3"), idempotency_key="c")
    client.force_login(member)

    api = client.get("/api/v1/actions/")
    page = client.get("/wallet/actions/")

    assert api.status_code == 200
    results = api.json()["results"]
    assert [(r["action"], r["outcomes"][0]["result"]) for r in results] == [
        ("survey_completed", "limit_reached"),
        ("social_share", "no_rule"),
        ("survey_completed", "awarded"),
    ]
    assert results[0]["reported_by"] == "Unilife Brands"
    html = page.content.decode()
    assert page.status_code == 200
    assert "Earned" in html and "the limit of 1 per day is reached" in html
    assert "no programme rewards this action" in html


def test_another_members_actions_are_not_in_my_log(client, world, api_key, member):
    _post(client, api_key, _event())
    client.force_login(UserFactory())
    assert client.get("/api/v1/actions/").json()["results"] == []


def test_the_actions_log_needs_a_login(client):
    assert client.get("/api/v1/actions/").status_code in (401, 403)
    assert client.get("/wallet/actions/").status_code == 302
