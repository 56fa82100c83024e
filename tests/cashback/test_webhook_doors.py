"""The doors as a WSGI application in front of Django: routing, HTTPS, bodies, storage failures."""

import io

import psycopg
import pytest
from django.db import OperationalError, connection

from cashback import inbox
from cashback.models import WebhookEvent, WebhookStatus
from cashback.providers import visa_signature
from tests.webhooks import VISA_SECRET, door, encode, post_visa, visa_event

pytestmark = pytest.mark.django_db


def signed(body: bytes) -> dict[str, str]:
    import time

    return {"Visa-Signature": visa_signature.sign(body=body, secret=VISA_SECRET, timestamp=int(time.time()))}


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- Routing --------------------------------------------------------------------------------------


def test_every_other_path_is_served_by_django(webhook_secrets):
    assert door.get("/healthz/").status_code == 200
    # a door's path without its slash is not a door: Django answers it (a JSON 404 under no app)
    assert door.post("/webhooks/visa", data=b"{}").status_code in (301, 404)
    assert WebhookEvent.objects.count() == 0


def test_the_answer_is_json_that_is_never_cached(webhook_secrets, handlers):
    handlers.add("visa", "transaction.auth")

    response = post_visa(visa_event(id="evt_headers"))

    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert int(response["Content-Length"]) == len(response.content)


# --- HTTPS ----------------------------------------------------------------------------------------


def test_with_https_enforced_a_plain_http_delivery_is_refused_before_any_write(webhook_secrets, handlers):
    webhook_secrets.SECURE_SSL_REDIRECT = True
    handlers.add("visa", "transaction.auth")

    response = post_visa(visa_event(id="evt_http"))

    assert (response.status_code, error_code(response)) == (403, "https_required")
    assert WebhookEvent.objects.count() == 0


def test_with_https_enforced_https_and_a_trusted_proxy_header_are_accepted(webhook_secrets, handlers):
    webhook_secrets.SECURE_SSL_REDIRECT = True
    webhook_secrets.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    handlers.add("visa", "transaction.auth")

    direct = door.post(
        "/webhooks/visa/",
        data=(body := encode(visa_event(id="evt_tls"))),
        headers=signed(body),
        **{"wsgi.url_scheme": "https"},
    )
    proxied = post_visa(visa_event(id="evt_proxy"), **{"X-Forwarded-Proto": "https"})
    spoofed_elsewhere = post_visa(visa_event(id="evt_spoof"), **{"X-Forwarded-Scheme": "https"})

    assert direct.status_code == 202
    assert proxied.status_code == 202
    assert (spoofed_elsewhere.status_code, error_code(spoofed_elsewhere)) == (403, "https_required")
    assert set(WebhookEvent.objects.values_list("event_id", flat=True)) == {"evt_tls", "evt_proxy"}


# --- Bodies ---------------------------------------------------------------------------------------


def test_a_body_without_a_length_is_read_to_the_limit(webhook_secrets, handlers):
    handlers.add("visa", "transaction.auth")
    webhook_secrets.WEBHOOK_MAX_BODY_BYTES = 2048
    small = encode(visa_event(id="evt_chunked"))
    large = encode(visa_event(id="evt_chunked_big", data={"merchant": {"id": "NM1", "name": "x" * 3000}}))

    def chunked(body: bytes):
        return door.post("/webhooks/visa/", headers=signed(body), CONTENT_LENGTH="", **{"wsgi.input": io.BytesIO(body)})

    assert chunked(small).status_code == 202
    too_large = chunked(large)
    assert (too_large.status_code, error_code(too_large)) == (413, "payload_too_large")
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == ["evt_chunked"]


def test_an_unpaired_surrogate_is_refused_and_a_pair_is_stored_as_its_character(webhook_secrets, handlers):
    handlers.add("visa", "transaction.auth")
    template = encode(visa_event(data={"merchant": {"id": "NM-TEST-1", "name": "NAME"}}))
    lone = template.replace(b"evt_visa_auth_0001", b"evt_lone").replace(b"NAME", b"Caf\\ud83d")
    pair = template.replace(b"evt_visa_auth_0001", b"evt_pair").replace(b"NAME", b"Caf\\ud83d\\ude00")

    refused = door.post("/webhooks/visa/", data=lone, headers=signed(lone))
    accepted = door.post("/webhooks/visa/", data=pair, headers=signed(pair))

    assert (refused.status_code, error_code(refused)) == (400, "malformed_json")
    assert accepted.status_code == 202
    assert WebhookEvent.objects.get().payload["data"]["merchant"]["name"] == "Caf\U0001f600"


def test_the_stored_payload_is_the_event_as_sent(webhook_secrets, handlers):
    handlers.add("visa", "transaction.auth")
    event = visa_event(id="evt_as_sent", data={"amount": "149.90", "note": "æøå ✓"})

    post_visa(event)

    assert WebhookEvent.objects.get().payload == event


# --- Storage failures -----------------------------------------------------------------------------


def test_a_database_that_cannot_store_is_a_503_and_the_sender_retries(webhook_secrets, handlers, monkeypatch):
    handlers.add("visa", "transaction.auth")

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(inbox, "event_receive", down)

    response = post_visa(visa_event(id="evt_db_down"))

    assert (response.status_code, error_code(response)) == (503, "storage_unavailable")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced_and_the_event_stored(webhook_secrets, handlers):
    # given a door whose thread holds a connection that the server then terminates (a restart)
    handlers.add("visa", "transaction.auth")
    assert post_visa(visa_event(id="evt_before")).status_code == 202
    backend = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])

    # when the next event arrives
    response = post_visa(visa_event(id="evt_after"))

    # then it is stored on a new connection, and acknowledged
    assert response.status_code == 202
    assert connection.connection.info.backend_pid != backend
    assert set(WebhookEvent.objects.values_list("event_id", flat=True)) == {"evt_before", "evt_after"}
    assert WebhookEvent.objects.get(event_id="evt_after").status == WebhookStatus.PROCESSED
