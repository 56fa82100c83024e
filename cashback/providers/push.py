"""Push provider interface: Firebase Cloud Messaging's HTTP v1 API, for Android and iOS alike.

``settings.PUSH_PROVIDER`` picks the client: ``fake`` (development and tests) or ``fcm``. The real
client posts ``{"message": {"token", "notification", "data", "android", "apns"}}`` to
``https://fcm.googleapis.com/v1/projects/<FCM_PROJECT_ID>/messages:send`` with an OAuth 2 access
token that google-auth mints from the service account in ``FCM_CREDENTIALS_FILE`` (scope
``firebase.messaging``) and refreshes when it expires.

FCM's answers (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode): 200 with the
message ``name``; ``UNREGISTERED`` (404) and ``SENDER_ID_MISMATCH`` (403), or ``INVALID_ARGUMENT``
about the token: the token is dead (``DeadTokenError``: the caller forgets the device);
``UNAVAILABLE``/``INTERNAL`` (5xx) and ``QUOTA_EXCEEDED`` (429): try later; anything else: permanent.
"""

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import requests
from django.conf import settings
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from cashback.providers.delivery import DeadTokenError, ProviderPermanentError, ProviderTemporaryError

logger = logging.getLogger(__name__)

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_TIMEOUT_SECONDS = 10
DEAD_TOKEN_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
TEMPORARY_CODES = frozenset({"UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED"})


@dataclass(frozen=True)
class PushMessage:
    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)


class PushClient(Protocol):
    def send(self, *, token: str, title: str, body: str, data: dict[str, str]) -> None: ...


class FakePushClient:
    """Keeps messages in ``outbox``; ``dead_tokens`` answer as FCM's UNREGISTERED; ``down`` as an outage."""

    outbox: ClassVar[list[PushMessage]] = []
    dead_tokens: ClassVar[set[str]] = set()
    down: ClassVar[bool] = False

    def send(self, *, token: str, title: str, body: str, data: dict[str, str]) -> None:
        if self.down:
            raise ProviderTemporaryError("fake push provider is down")
        if token in self.dead_tokens:
            raise DeadTokenError("UNREGISTERED")
        self.outbox.append(PushMessage(token=token, title=title, body=body, data=dict(data)))
        logger.info("Fake push to …%s: %s", token[-6:], title)

    @classmethod
    def clear(cls) -> None:
        cls.outbox.clear()
        cls.dead_tokens.clear()
        cls.down = False


class FcmPushClient:
    """FCM HTTP v1 through an authorised ``requests`` session (google-auth's ``AuthorizedSession``)."""

    def __init__(self, *, project_id: str, session: requests.Session) -> None:
        self._url = f"https://fcm.googleapis.com/v1/projects/{project_id}/messages:send"
        self._session = session

    @classmethod
    def from_service_account(cls, *, project_id: str, credentials_file: str) -> "FcmPushClient":
        credentials = service_account.Credentials.from_service_account_file(credentials_file, scopes=[FCM_SCOPE])
        return cls(project_id=project_id, session=AuthorizedSession(credentials))

    @staticmethod
    def payload(*, token: str, title: str, body: str, data: dict[str, str]) -> dict[str, Any]:
        return {
            "message": {
                "token": token,
                "notification": {"title": title, "body": body},
                # FCM's data values must be strings.
                "data": {key: str(value) for key, value in data.items()},
                "android": {"priority": "HIGH"},
                "apns": {"headers": {"apns-priority": "10"}, "payload": {"aps": {"sound": "default"}}},
            }
        }

    def send(self, *, token: str, title: str, body: str, data: dict[str, str]) -> None:
        try:
            response = self._session.post(
                self._url,
                json=self.payload(token=token, title=title, body=body, data=data),
                timeout=FCM_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise ProviderTemporaryError(f"FCM unreachable: {error!r}") from error
        if response.status_code == 200:
            return
        status, code, message = _fcm_error(response)
        if code in DEAD_TOKEN_CODES or (status == "INVALID_ARGUMENT" and "token" in message.lower()):
            raise DeadTokenError(f"FCM {response.status_code} {code or status}: {message}")
        if (
            code in TEMPORARY_CODES
            or status in TEMPORARY_CODES
            or response.status_code == 429
            or response.status_code >= 500
        ):
            raise ProviderTemporaryError(f"FCM {response.status_code} {code or status}: {message}")
        raise ProviderPermanentError(f"FCM {response.status_code} {code or status}: {message}")


def _fcm_error(response: requests.Response) -> tuple[str, str, str]:
    """(status, FCM errorCode, message) of an error answer; blanks where the body does not say."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return "", "", response.text[:200]
    code = ""
    for detail in error.get("details", []) or []:
        if str(detail.get("@type", "")).endswith("google.firebase.fcm.v1.FcmError"):
            code = str(detail.get("errorCode", ""))
    return str(error.get("status", "")), code, str(error.get("message", ""))


def get_push_client() -> PushClient:
    if settings.PUSH_PROVIDER == "fake":
        return FakePushClient()
    if settings.PUSH_PROVIDER == "fcm":
        return FcmPushClient.from_service_account(
            project_id=settings.FCM_PROJECT_ID, credentials_file=settings.FCM_CREDENTIALS_FILE
        )
    raise NotImplementedError(f"Push provider {settings.PUSH_PROVIDER!r} is not available.")
