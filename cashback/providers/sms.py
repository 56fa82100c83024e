"""SMS provider interface.

``settings.SMS_PROVIDER`` picks the client: ``fake`` (development and tests) or ``twilio`` (the
Twilio SDK; ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN`` and ``TWILIO_FROM`` or
``TWILIO_MESSAGING_SERVICE_SID``). The fake keeps every message in the class-level
``FakeSmsClient.outbox`` (shared by all instances, like Django's ``mail.outbox``) and logs it, so
development shows the codes in the console and tests can read them; tests empty it with
``FakeSmsClient.clear()`` (the ``sms_outbox`` fixture does that before each test). Setting
``FakeSmsClient.down`` makes it fail as a provider outage would.

A send that fails raises ``ProviderTemporaryError`` (retry later) or ``ProviderPermanentError``.
"""

import logging
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client

from cashback.providers.delivery import ProviderPermanentError, ProviderTemporaryError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class SmsClient(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class FakeSmsClient:
    outbox: ClassVar[list[SmsMessage]] = []
    # True: every send fails as a provider outage does (tests of retries and of the money path).
    down: ClassVar[bool] = False

    def send(self, *, to: str, body: str) -> None:
        if self.down:
            raise ProviderTemporaryError("fake SMS provider is down")
        self.outbox.append(SmsMessage(to=to, body=body))
        logger.info("Fake SMS to %s: %s", to, body)

    @classmethod
    def clear(cls) -> None:
        cls.outbox.clear()
        cls.down = False


class TwilioSmsClient:
    """Sends through Twilio's Messages resource (``POST /2010-04-01/Accounts/<sid>/Messages.json``)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str = "",
        messaging_service_sid: str = "",
        http_client: HttpClient | None = None,
    ) -> None:
        if not (sender or messaging_service_sid):
            raise ValueError("Twilio needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID.")
        self._client = Client(account_sid, auth_token, http_client=http_client)
        self._sender = sender
        self._messaging_service_sid = messaging_service_sid

    def send(self, *, to: str, body: str) -> None:
        origin: dict[str, Any] = (
            {"messaging_service_sid": self._messaging_service_sid}
            if self._messaging_service_sid
            else {"from_": self._sender}
        )
        try:
            self._client.messages.create(to=to, body=body, **origin)
        except TwilioRestException as error:
            if error.status == 429 or error.status >= 500:
                raise ProviderTemporaryError(f"Twilio {error.status} ({error.code}): {error.msg}") from error
            raise ProviderPermanentError(f"Twilio {error.status} ({error.code}): {error.msg}") from error
        except (TwilioException, OSError) as error:  # connection refused, timeout, TLS
            raise ProviderTemporaryError(f"Twilio unreachable: {error!r}") from error


def get_sms_client() -> SmsClient:
    if settings.SMS_PROVIDER == "fake":
        return FakeSmsClient()
    if settings.SMS_PROVIDER == "twilio":
        return TwilioSmsClient(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            sender=settings.TWILIO_FROM,
            messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID,
        )
    raise NotImplementedError(f"SMS provider {settings.SMS_PROVIDER!r} is not available.")
