"""What a visitor's request brings to a sign-up: the referral code they came with, their device and network.

Owned by accounts because sign-up is: the sign-up form pre-fills the remembered code and announces
``user_signed_up`` with the code, device and network as plain values (subscribers run after commit,
without the request). The referral programme's /r/<code>/ link and the partner pages' ``?ref=`` write
the code here; referrals' services use ``normalize_code`` and ``network_of``. Services receive plain
values, never the request.

- The code from a referral link is kept in the session and, for visitors whose session is replaced
  (logging in rotates it; the link may be opened days before signing up), in a signed cookie.
- The device id is the ``X-Device-Id`` header the mobile app sends, or a random id kept in a
  long-lived cookie for browsers; what the platform keeps is its keyed hash (cashback/keyed_ids.py):
  the id is the client's own text, and it travels in the append-only fact ``user_signed_up``.
- The network is the client IP's /24 (IPv4) or /64 (IPv6). Behind a proxy (``BEHIND_PROXY=true``)
  the client IP is the last address of ``X-Forwarded-For``, the one our proxy appended.
"""

import ipaddress
import re
import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from cashback.card_guard import contains_card_number
from cashback.keyed_ids import external_key

REFERRAL_CODE_SESSION_KEY = "referral_code"
PARTNER_REFERRAL_CODE_SESSION_KEY = "partner_referral_code"
CODE_COOKIE = "cb_ref"
PARTNER_CODE_COOKIE = "cb_partner_ref"
DEVICE_COOKIE = "cb_device"
DEVICE_HEADER = "X-Device-Id"
CODE_COOKIE_MAX_AGE = 60 * 60 * 24 * 30
DEVICE_COOKIE_MAX_AGE = 60 * 60 * 24 * 365 * 2
_SIGNING_SALT = "referrals.visitor"  # the module's old home; kept so cookies set before the move still verify
_DEVICE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# What a normalized code can look like; anything else in a link is not remembered (it could only be
# junk, and it would travel in a cookie on every request).
_PLAUSIBLE_CODE = re.compile(r"^[A-Z0-9]{1,32}$")


def normalize_code(value: str | None) -> str:
    """A code as stored: upper case, no spaces or dashes (people copy codes with both)."""
    return re.sub(r"[\s-]", "", value or "").upper()


def client_ip(request: HttpRequest) -> str | None:
    candidate = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER:  # BEHIND_PROXY: our proxy appended the client's address last
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            candidate = forwarded[-1]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def network_of(ip: str | None) -> str:
    """``"203.0.113.0/24"`` for IPv4, ``"2001:db8:1:2::/64"`` for IPv6, ``""`` when unknown."""
    if not ip:
        return ""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def device_id(request: HttpRequest) -> str:
    """The keyed hash of the app's ``X-Device-Id`` header, else of the browser's device cookie; ``""``
    when neither is usable. The same device always gives the same value, so the referral programme's
    comparisons work on it as on the id itself."""
    for value in (request.headers.get(DEVICE_HEADER, ""), request.COOKIES.get(DEVICE_COOKIE, "")):
        value = value.strip()
        # The header was refused at the door (cashback/request_guard.py); a cookie holding a card
        # number is not ours, so it is replaced rather than stored.
        if _DEVICE_ID.match(value) and not contains_card_number(value):
            return external_key(namespace="device", value=value)
    return ""


def ensure_device_cookie(request: HttpRequest, response: HttpResponse) -> str:
    """Give a browser a device id if it has none (nothing to do for the app, which sends its own); returns
    the device id as ``device_id`` gives it (its keyed hash)."""
    existing = device_id(request)
    if existing:
        return existing
    new_id = secrets.token_urlsafe(18)
    response.set_cookie(
        DEVICE_COOKIE,
        new_id,
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    request.COOKIES[DEVICE_COOKIE] = new_id
    return device_id(request)


def _remember(request: HttpRequest, response: HttpResponse, *, code: str, session_key: str, cookie: str) -> None:
    if not _PLAUSIBLE_CODE.match(code):
        return
    request.session[session_key] = code
    response.set_cookie(
        cookie,
        signing.dumps(code, salt=_SIGNING_SALT),
        max_age=CODE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _remembered(request: HttpRequest, *, session_key: str, cookie: str) -> str:
    code = request.session.get(session_key, "") if hasattr(request, "session") else ""
    if not code and request.COOKIES.get(cookie):
        try:
            code = signing.loads(request.COOKIES[cookie], salt=_SIGNING_SALT, max_age=CODE_COOKIE_MAX_AGE)
        except signing.BadSignature:
            code = ""
    return normalize_code(code if isinstance(code, str) else "")


def remember_code(request: HttpRequest, response: HttpResponse, code: str) -> None:
    _remember(request, response, code=code, session_key=REFERRAL_CODE_SESSION_KEY, cookie=CODE_COOKIE)


def remembered_code(request: HttpRequest) -> str:
    return _remembered(request, session_key=REFERRAL_CODE_SESSION_KEY, cookie=CODE_COOKIE)


def forget_code(request: HttpRequest) -> None:
    if hasattr(request, "session"):
        request.session.pop(REFERRAL_CODE_SESSION_KEY, None)


def remember_partner_code(request: HttpRequest, response: HttpResponse, code: str) -> None:
    _remember(request, response, code=code, session_key=PARTNER_REFERRAL_CODE_SESSION_KEY, cookie=PARTNER_CODE_COOKIE)


def remembered_partner_code(request: HttpRequest) -> str:
    return _remembered(request, session_key=PARTNER_REFERRAL_CODE_SESSION_KEY, cookie=PARTNER_CODE_COOKIE)
