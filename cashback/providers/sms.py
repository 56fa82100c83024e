"""SMS provider interface.

``settings.SMS_PROVIDER`` picks the client. The fake keeps every message in the class-level
``FakeSmsClient.outbox`` (shared by all instances, like Django's ``mail.outbox``) and logs it,
so development shows the codes in the console and tests can read them; tests empty it with
``FakeSmsClient.clear()`` (the ``sms_outbox`` fixture does that before each test).
"""

import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class SmsClient(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class FakeSmsClient:
    outbox: ClassVar[list[SmsMessage]] = []

    def send(self, *, to: str, body: str) -> None:
        self.outbox.append(SmsMessage(to=to, body=body))
        logger.info("Fake SMS to %s: %s", to, body)

    @classmethod
    def clear(cls) -> None:
        cls.outbox.clear()


def get_sms_client() -> SmsClient:
    if settings.SMS_PROVIDER == "fake":
        return FakeSmsClient()
    raise NotImplementedError(f"SMS provider {settings.SMS_PROVIDER!r} is not available.")
