"""Card-network provider interface: enrolment (fake only) and token look-up.

``settings.CARD_NETWORK_PROVIDER`` picks the client:

- ``fake`` (development and tests): ``enrol(number, exp_month, exp_year)`` checks the number
  (Luhn, length, a Visa/Mastercard/Amex prefix) and the expiry, and answers a network token.
  The token is derived, not stored: it carries the first six and last four digits, the expiry and
  a keyed fingerprint of the number, sealed with an HMAC under ``SECRET_KEY``. ``card_lookup``
  checks the seal and reads the details back, so a token enrolled by the web process is known to
  the worker too, with no table of fake enrolments. The same card always gets the same token
  (as a network's card-linking token does), and the full number is never kept anywhere.
- ``visa``: a client of the card network's token API over HTTPS (``requests``, basic auth and,
  when configured, a client certificate). Enrolment happens on the network's hosted page, so
  ``enrol`` is not available; ``card_lookup`` asks the API what the token stands for.

Full card numbers must never be logged: nothing in this module logs a number, and the functions
that hold one are marked ``sensitive_variables`` so Django's error reports hide their locals.
"""

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from cashback.errors import DomainError

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "ctok_"


class CardNetworkError(DomainError):
    code = "card_network_error"
    http_status = 502
    default_message = "The card network could not be reached. Please try again in a moment."


class CardNumberInvalidError(DomainError):
    code = "card_number_invalid"
    default_message = "This is not a valid card number."


class CardExpiredError(DomainError):
    code = "card_expired"
    default_message = "This card has expired."


class CardExpiryInvalidError(DomainError):
    code = "card_expiry_invalid"
    default_message = "The expiry date is not valid."


class CardDeclinedError(DomainError):
    code = "card_declined"
    default_message = "The card network declined this card."


class CardTokenInvalidError(DomainError):
    code = "card_token_invalid"
    default_message = "The card network does not know this card token."


@dataclass(frozen=True)
class CardDetails:
    """What the network tells us about a token: never more than first six, last four and expiry."""

    token: str
    first_six: str
    last_four: str
    exp_month: int
    exp_year: int
    scheme: str


class CardNetworkClient(Protocol):
    def enrol(self, number: str, exp_month: int, exp_year: int) -> CardDetails: ...

    def card_lookup(self, token: str) -> CardDetails: ...


# --- Card number checks (used by the fake; the real network checks its own) -------------------

# Prefixes of the schemes the fake accepts; a real network decides this itself.
_SCHEMES: tuple[tuple[str, str], ...] = (
    ("4", "visa"),
    ("51", "mastercard"),
    ("52", "mastercard"),
    ("53", "mastercard"),
)
_SCHEMES += (("54", "mastercard"), ("55", "mastercard"), ("2", "mastercard"), ("34", "amex"), ("37", "amex"))

# Test numbers the fake declines, like a card network's sandbox does (Stripe's "generic decline").
DECLINED_TEST_NUMBERS = frozenset({"4000000000000002"})

# The usual test numbers; the fake accepts any Luhn-valid number with a known prefix, these included.
TEST_CARD_NUMBERS = (
    "4242424242424242",
    "4000056655665556",
    "4111111111111111",
    "4012888888881881",
    "5555555555554444",
    "5200828282828210",
    "378282246310005",
)


def luhn_valid(digits: str) -> bool:
    """The Luhn check digit test, for a string of digits."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_card_number(value: str) -> bool:
    """Whether ``value`` (spaces and dashes ignored) is a 13-19 digit Luhn-valid number."""
    digits = re.sub(r"[ -]", "", value or "")
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _scheme_of(digits: str) -> str | None:
    for prefix, scheme in _SCHEMES:
        if digits.startswith(prefix):
            return scheme
    return None


def _check_expiry(exp_month: int, exp_year: int, *, today: date) -> None:
    if not 1 <= exp_month <= 12 or not 2000 <= exp_year <= 2100:
        raise CardExpiryInvalidError(fields={"exp_month": [_("Month 1-12 and a four-digit year.")]})
    if (exp_year, exp_month) < (today.year, today.month):
        raise CardExpiredError(fields={"exp_year": [_("This card has expired.")]})


# --- The fake ---------------------------------------------------------------------------------

# Token layout (before base32): version, first six, last four, month, year (two bytes), a 10-byte
# keyed fingerprint of the number, then a 10-byte HMAC over all of that. Base32 keeps the token free
# of long runs of digits, so a scan for card numbers never mistakes a token for one.
_TOKEN_VERSION = 1
_FINGERPRINT_BYTES = 10
_SEAL_BYTES = 10


def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"cashback.fake-card-network.{purpose}:{settings.SECRET_KEY}".encode()).digest()


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    padded = text.upper() + "=" * (-len(text) % 8)
    return base64.b32decode(padded)


class FakeCardNetwork:
    """The development card network. See the module docstring for how tokens work."""

    # How many enrolments this process made; the test suite's card-number guard scans the
    # database after any test that enrolled a card.
    enrolments = 0

    @sensitive_variables("number", "digits")
    def enrol(self, number: str, exp_month: int, exp_year: int) -> CardDetails:
        type(self).enrolments += 1
        digits = re.sub(r"[ -]", "", str(number or ""))
        scheme = _scheme_of(digits)
        if not (13 <= len(digits) <= 19 and luhn_valid(digits)) or scheme is None:
            raise CardNumberInvalidError(fields={"number": [_("This is not a valid card number.")]})
        _check_expiry(exp_month, exp_year, today=timezone.localdate())
        if digits in DECLINED_TEST_NUMBERS:
            raise CardDeclinedError()
        fingerprint = hmac.new(_key("fingerprint"), digits.encode(), hashlib.sha256).digest()[:_FINGERPRINT_BYTES]
        body = (
            bytes([_TOKEN_VERSION])
            + digits[:6].encode()
            + digits[-4:].encode()
            + bytes([exp_month])
            + exp_year.to_bytes(2, "big")
            + bytes([len(scheme)])
            + scheme.encode()
            + fingerprint
        )
        token = TOKEN_PREFIX + _b32(body + self._seal(body))
        logger.info("Fake card network enrolled a %s card ending %s", scheme, digits[-4:])
        return self._details(token, body)

    def card_lookup(self, token: str) -> CardDetails:
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            raise CardTokenInvalidError()
        try:
            raw = _unb32(token[len(TOKEN_PREFIX) :])
        except (ValueError, TypeError):
            raise CardTokenInvalidError() from None
        body, seal = raw[:-_SEAL_BYTES], raw[-_SEAL_BYTES:]
        if len(body) < 16 or body[0] != _TOKEN_VERSION or not hmac.compare_digest(seal, self._seal(body)):
            raise CardTokenInvalidError()
        return self._details(token, body)

    @staticmethod
    def _seal(body: bytes) -> bytes:
        return hmac.new(_key("seal"), body, hashlib.sha256).digest()[:_SEAL_BYTES]

    @staticmethod
    def _details(token: str, body: bytes) -> CardDetails:
        scheme_length = body[14]
        return CardDetails(
            token=token,
            first_six=body[1:7].decode(),
            last_four=body[7:11].decode(),
            exp_month=body[11],
            exp_year=int.from_bytes(body[12:14], "big"),
            scheme=body[15 : 15 + scheme_length].decode(),
        )


# --- The real client --------------------------------------------------------------------------


class VisaCardNetwork:
    """Client of the card network's token API.

    ``POST {base_url}/vop/v1/tokens/lookup`` with ``{"cardToken": "ctok_..."}`` answers
    ``{"status": "active", "card": {"token", "firstNumbers", "lastNumbers", "expirationMonth",
    "expirationYear", "scheme"}}``; an unknown token is a 404 (or ``status`` other than ``active``).
    Authentication is HTTP basic (``VISA_API_USER_ID``/``VISA_API_PASSWORD``) and, when configured,
    mutual TLS (``VISA_API_CERT_FILE``/``VISA_API_KEY_FILE``), as Visa's APIs use.
    """

    LOOKUP_PATH = "/vop/v1/tokens/lookup"

    def __init__(
        self,
        *,
        base_url: str,
        user_id: str,
        password: str,
        cert: tuple[str, str] | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.auth = (user_id, password)
        if cert:
            self.session.cert = cert
        self.timeout = timeout

    def enrol(self, number: str, exp_month: int, exp_year: int) -> CardDetails:
        raise CardNetworkError(_("Cards are enrolled on the card network's hosted page, not through the platform."))

    def card_lookup(self, token: str) -> CardDetails:
        if not isinstance(token, str) or not token or len(token) > 128:
            raise CardTokenInvalidError()
        try:
            response = self.session.post(
                self.base_url + self.LOOKUP_PATH,
                json={"cardToken": token},
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            logger.warning("Card network look-up failed: %s", type(error).__name__)
            raise CardNetworkError() from None
        if response.status_code in (404, 410):
            raise CardTokenInvalidError()
        if response.status_code >= 400:
            logger.warning("Card network look-up answered HTTP %s", response.status_code)
            raise CardNetworkError()
        try:
            return self._details(token, response.json())
        except (ValueError, KeyError, TypeError):
            logger.warning("Card network look-up answered a body we cannot read")
            raise CardNetworkError() from None

    @staticmethod
    def _details(token: str, body: dict[str, Any]) -> CardDetails:
        if body.get("status") != "active":
            raise CardTokenInvalidError()
        card = body["card"]
        if card.get("token", token) != token:
            raise CardNetworkError()
        first_six, last_four = str(card["firstNumbers"]), str(card["lastNumbers"])
        if not re.fullmatch(r"[0-9]{6}", first_six) or not re.fullmatch(r"[0-9]{4}", last_four):
            raise ValueError("unexpected card digits")
        return CardDetails(
            token=token,
            first_six=first_six,
            last_four=last_four,
            exp_month=int(card["expirationMonth"]),
            exp_year=int(card["expirationYear"]),
            scheme=str(card.get("scheme") or "visa").lower(),
        )


def get_card_network() -> CardNetworkClient:
    provider = settings.CARD_NETWORK_PROVIDER
    if provider == "fake":
        return FakeCardNetwork()
    if provider == "visa":
        cert = (
            (settings.VISA_API_CERT_FILE, settings.VISA_API_KEY_FILE)
            if settings.VISA_API_CERT_FILE and settings.VISA_API_KEY_FILE
            else None
        )
        return VisaCardNetwork(
            base_url=settings.VISA_API_BASE_URL,
            user_id=settings.VISA_API_USER_ID,
            password=settings.VISA_API_PASSWORD,
            cert=cert,
        )
    raise NotImplementedError(f"Card network provider {provider!r} is not available.")


def fake_card_network_enabled() -> bool:
    return settings.CARD_NETWORK_PROVIDER == "fake"
