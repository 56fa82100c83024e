"""The context of each section of a person's support page (adminpanel.support_sections).

Each function takes the person and returns what its template needs, through the owning app's
selectors; lists show the latest ``ROWS`` rows (the page is a summary; the full history stays on
each app's own pages)."""

from typing import Any

from accounts import selectors as account_selectors
from accounts.models import User
from campaigns import selectors as campaign_selectors
from charity import selectors as charity_selectors
from notifications import selectors as notification_selectors
from referrals import selectors as referral_selectors
from wallet import selectors as wallet_selectors

ROWS = 20


def profile(user: User) -> dict[str, Any]:
    return {"block_events": list(user.block_events.select_related("actor")[:ROWS])}


def consents(user: User) -> dict[str, Any]:
    return {
        "in_force": account_selectors.consents_in_force(user=user),
        "history": list(user.consents.all()[:ROWS]),
    }


def cards(user: User) -> dict[str, Any]:
    return {"cards": list(user.cards.all()[:ROWS])}


def wallet(user: User) -> dict[str, Any]:
    entries = list(wallet_selectors.wallet_entries(user=user)[:ROWS])
    return {"balances": wallet_selectors.wallet_balances(user=user), "entries": entries}


def purchases(user: User) -> dict[str, Any]:
    return {"purchases": list(campaign_selectors.purchases_of(user=user)[:ROWS])}


def payouts(user: User) -> dict[str, Any]:
    return {"payouts": list(user.payouts.order_by("-created_at", "-id")[:ROWS])}


def donations(user: User) -> dict[str, Any]:
    return {"donations": charity_selectors.donation_rows(charity_selectors.donation_entries(user=user)[:ROWS])}


def referrals(user: User) -> dict[str, Any]:
    return {
        "made": list(referral_selectors.referrals_made(user=user)[:ROWS]),
        "referred_by": referral_selectors.referral_of_friend(friend=user),
    }


def notifications(user: User) -> dict[str, Any]:
    return {"notifications": list(notification_selectors.notifications_for(user=user)[:ROWS])}
