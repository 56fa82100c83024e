"""The abuse rules: devices and networks seen per person, the signals that hold a referral for staff
review, self-referral (a shared card or device) and the monthly cap of bonuses per referrer."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.selectors import card_fingerprints_of
from accounts.visitor import network_of
from referrals import selectors
from referrals.models import DeviceSighting, Referral, ReferralCode
from referrals.services.codes import referral_code_for

if TYPE_CHECKING:
    from accounts.models import User


class ReviewSignal:
    """Why a referral waits for staff (stored in ``Referral.review_reasons``)."""

    SAME_NETWORK = "same_network"
    SAME_DEVICE = "same_device"
    REFERRER_NETWORK = "referrer_network"

    LABELS = {
        SAME_NETWORK: "Another referral by the same person signed up from this network shortly before or after",
        SAME_DEVICE: "Another referral signed up on this device shortly before or after",
        REFERRER_NETWORK: "The referrer used this network shortly before the friend signed up",
    }


def device_sighting_record(*, user: User, device_id: str, ip: str | None, now: datetime | None = None) -> None:
    """Remember that ``user`` used this device and network (for the self-referral and review checks)."""
    network = network_of(ip)
    if not device_id and not network:
        return
    now = now or timezone.now()
    with transaction.atomic():
        sighting, created = DeviceSighting.objects.get_or_create(
            user=user, device_id=device_id, network=network, defaults={"last_seen_at": now}
        )
        if not created and sighting.last_seen_at < now:
            DeviceSighting.objects.filter(pk=sighting.pk, last_seen_at__lt=now).update(last_seen_at=now, updated_at=now)


def review_signals(*, referrer_id: int, network: str, device_id: str, since: datetime) -> tuple[list[str], list[int]]:
    """Signals that this sign-up and others came from one network or device within the window, and
    the open referrals that share them (they are flagged too: both wait for staff)."""
    signals: list[str] = []
    related: set[int] = set()
    if network:
        same_network = selectors.recent_referral_ids(referrer_id=referrer_id, network=network, since=since)
        if same_network:
            signals.append(ReviewSignal.SAME_NETWORK)
            related.update(same_network)
        if selectors.user_seen_on_network(user_id=referrer_id, network=network, since=since):
            signals.append(ReviewSignal.REFERRER_NETWORK)
    if device_id:
        same_device = selectors.recent_referral_ids(device_id=device_id, since=since)
        if same_device:
            signals.append(ReviewSignal.SAME_DEVICE)
            related.update(same_device)
    return signals, sorted(related)


def self_referral_reason(referral: Referral) -> str:
    """Why the friend looks like the referrer under another account, or ``""``.

    Payout and payment details need no check of their own: a Stripe payout account and a card
    token each belong to one consumer only (unique in the database), so they cannot be shared."""
    if card_fingerprints_of(user_id=referral.friend_id) & card_fingerprints_of(user_id=referral.referrer_id):
        return "The friend and the referrer use the same payment card (self-referral)."
    if selectors.shared_device_ids(user_id=referral.friend_id, other_user_id=referral.referrer_id):
        return "The friend and the referrer use the same device (self-referral)."
    return ""


def monthly_cap_reached(*, referrer: User, cap: int, now: datetime) -> bool:
    """Whether ``referrer`` has already been paid ``cap`` bonuses this calendar month. Locks the
    referrer's code row first, so two referrals of one referrer settling at once count each other."""
    code = referral_code_for(user=referrer)
    ReferralCode.objects.select_for_update().filter(pk=code.pk).first()
    return selectors.bonuses_paid_in_month(referrer_id=referrer.pk, at=now) >= cap
