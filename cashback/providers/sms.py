"""SMS provider interface. The fake keeps messages in memory and logs them."""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class SmsClient(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class FakeSmsClient:
    outbox: list[SmsMessage] = []

    def send(self, *, to: str, body: str) -> None:
        self.outbox.append(SmsMessage(to=to, body=body))
        logger.info("Fake SMS to %s: %s", to, body)


def get_sms_client() -> SmsClient:
    if settings.SMS_PROVIDER == "fake":
        return FakeSmsClient()
    raise NotImplementedError(f"SMS provider {settings.SMS_PROVIDER!r} is not available.")
