"""The real SMS (Twilio) and push (FCM HTTP v1) clients against the providers' request and response shapes."""

import json
import logging

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

from cashback.providers.delivery import DeadTokenError, ProviderPermanentError, ProviderTemporaryError
from cashback.providers.push import FcmPushClient
from cashback.providers.sms import TwilioSmsClient

TWILIO_MESSAGE = {
    "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "account_sid": "AC00000000000000000000000000000000",
    "to": "+4791234567",
    "from": "+4759446666",
    "body": "Hello",
    "status": "queued",
    "num_segments": "1",
    "direction": "outbound-api",
    "uri": "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json",
}


class RecordingTwilioHttp(HttpClient):
    def __init__(self, status: int, body: dict):
        super().__init__(logging.getLogger("test"), is_async=False)
        self.status, self.body, self.requests = status, body, []

    def request(
        self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False
    ):
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        return TwilioResponse(self.status, json.dumps(self.body))


def _twilio(status, body):
    http = RecordingTwilioHttp(status, body)
    client = TwilioSmsClient(
        account_sid="AC00000000000000000000000000000000", auth_token="secret", sender="+4759446666", http_client=http
    )
    return client, http


def test_twilio_posts_the_message_to_the_messages_resource():
    client, http = _twilio(201, TWILIO_MESSAGE)

    client.send(to="+4791234567", body="Hello")

    [sent] = http.requests
    assert sent["method"] == "POST"
    assert sent["uri"] == "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    assert sent["data"]["To"] == "+4791234567" and sent["data"]["From"] == "+4759446666"
    assert sent["data"]["Body"] == "Hello"


def test_twilio_refusing_a_number_is_permanent_and_an_outage_temporary():
    refused = {
        "code": 21211,
        "message": "Invalid 'To' Phone Number",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    with pytest.raises(ProviderPermanentError):
        _twilio(400, refused)[0].send(to="+47", body="x")
    with pytest.raises(ProviderTemporaryError):
        _twilio(503, {"code": 20500, "message": "Internal Server Error", "status": 503})[0].send(
            to="+4791234567", body="x"
        )
    with pytest.raises(ProviderTemporaryError):
        _twilio(429, {"code": 20429, "message": "Too Many Requests", "status": 429})[0].send(to="+4791234567", body="x")


class RecordingSession(requests.Session):
    def __init__(self, status: int, body: dict):
        super().__init__()
        self.status, self.body, self.calls = status, body, []

    def post(self, url, json=None, timeout=None, **kwargs):
        self.calls.append({"url": url, "json": json})
        response = requests.Response()
        response.status_code = self.status
        response._content = __import__("json").dumps(self.body).encode()
        return response


def _fcm_error(code: int, status: str, error_code: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": "Requested entity was not found." if code == 404 else "error",
            "status": status,
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}],
        }
    }


def test_fcm_posts_an_http_v1_message_for_android_and_ios():
    session = RecordingSession(200, {"name": "projects/cashback-demo/messages/0:1500415314455276%31bd1c9631bd1c96"})
    client = FcmPushClient(project_id="cashback-demo", session=session)

    client.send(token="tok", title="+12.50 NOK cashback", body="Pending", data={"notification_id": "7"})

    [call] = session.calls
    assert call["url"] == "https://fcm.googleapis.com/v1/projects/cashback-demo/messages:send"
    message = call["json"]["message"]
    assert message["token"] == "tok"
    assert message["notification"] == {"title": "+12.50 NOK cashback", "body": "Pending"}
    assert message["data"] == {"notification_id": "7"}
    assert "android" in message and message["apns"]["payload"]["aps"]["sound"] == "default"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, _fcm_error(404, "NOT_FOUND", "UNREGISTERED"), DeadTokenError),
        (403, _fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"), DeadTokenError),
        (503, _fcm_error(503, "UNAVAILABLE", "UNAVAILABLE"), ProviderTemporaryError),
        (429, _fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), ProviderTemporaryError),
        (401, _fcm_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"), ProviderPermanentError),
    ],
)
def test_fcm_errors_are_sorted_into_dead_temporary_and_permanent(status, body, error):
    client = FcmPushClient(project_id="p", session=RecordingSession(status, body))
    with pytest.raises(error):
        client.send(token="tok", title="t", body="b", data={})
