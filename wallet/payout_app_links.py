"""Payout onboarding started from the mobile app, which has a session token but no cookie.

Stripe's hosted onboarding sends the consumer back to a URL in the browser it was opened in. For
the web wallet that is the cookie-protected return page; the app's browser has no cookie, so the
app's onboarding uses links that carry their own authorisation: a token signed with the platform's
key (``django.core.signing``), naming the consumer and valid for ``PAYOUT_APP_LINK_MAX_AGE_SECONDS``.
The token grants one thing only: asking Stripe for that consumer's account state (what the web
return page does). It cannot make an onboarding link, read the wallet or move money, so a leaked
link is worth nothing beyond a status check; the refresh page (an expired Stripe link) only says to
start again from the app. The app itself polls ``GET /api/v1/payouts/account/`` (docs/payouts.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

if TYPE_CHECKING:
    from accounts.models import User

SALT = "wallet.payout-app-link"


def payout_app_link_token(*, user: User) -> str:
    return signing.dumps({"user": user.pk}, salt=SALT)


def payout_app_link_user(*, token: str) -> User | None:
    """The consumer a link names, or None when it is forged, altered or older than the max age."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.PAYOUT_APP_LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    user_id = payload.get("user") if isinstance(payload, dict) else None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None


def payout_app_link_urls(*, user: User) -> dict[str, str]:
    """Stripe's ``return_url`` and ``refresh_url`` (paths; the caller makes them absolute)."""
    token = payout_app_link_token(user=user)
    return {
        "return_url": reverse("wallet:payouts-app-return", kwargs={"token": token}),
        "refresh_url": reverse("wallet:payouts-app-refresh", kwargs={"token": token}),
    }
