import re

import pytest
from django.test import Client

from cashback.providers.sms import FakeSmsClient, SmsMessage


@pytest.fixture(autouse=True)
def sms_outbox() -> list[SmsMessage]:
    """The fake SMS provider's outbox, emptied before each test."""
    FakeSmsClient.clear()
    yield FakeSmsClient.outbox
    FakeSmsClient.clear()


def code_from(message: SmsMessage) -> str:
    match = re.search(r"code is (\S+)", message.body)
    assert match, message.body
    return match.group(1)


class AppClient:
    """Talks to allauth's headless API the way the mobile app does (JSON, X-Session-Token)."""

    def __init__(self) -> None:
        self.client = Client()
        self.session_token: str | None = None

    def _headers(self) -> dict[str, str]:
        return {"X-Session-Token": self.session_token} if self.session_token else {}

    def _remember_token(self, response):
        token = response.json().get("meta", {}).get("session_token") if response.content else None
        if token:
            self.session_token = token
        return response

    def post(self, path: str, data: dict):
        response = self.client.post(path, data, content_type="application/json", headers=self._headers())
        return self._remember_token(response)

    def get(self, path: str):
        return self.client.get(path, headers=self._headers())

    def patch(self, path: str, data: dict):
        return self.client.patch(path, data, content_type="application/json", headers=self._headers())


@pytest.fixture
def app_client() -> AppClient:
    return AppClient()
