"""Friends at sign-up: linking the person who signs up to the referrer whose code they came with, and
the answer to an existing account asking for a referrer (never allowed, with the reason)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.visitor import network_of
from referrals import selectors
from referrals.errors import AlreadyReferredError, ReferralAfterSignupError
from referrals.models import Referral, ReferralStatus
from referrals.services.abuse import ReviewSignal, device_sighting_record, review_signals
from referrals.services.codes import referral_code_check
from referrals.services.programme import program_current

if TYPE_CHECKING:
    from accounts.models import User


def referral_attach_at_signup(
    *, friend: User, code: str, ip: str | None = None, device_id: str = "", now: datetime | None = None
) -> Referral:
    """Link a person who is signing up to the referrer whose code they came with.

    Called by the sign-up flow (web and app) in the transaction that creates the account. Raises
    ``UnknownReferralCodeError`` or ``OwnReferralCodeError`` (nothing is written); a friend signing up
    on a device the referrer uses is linked but ``rejected`` (same person); signals of a shared
    network or device within the programme's review window mark the referral for staff review.
    """
    now = now or timezone.now()
    referrer_code = referral_code_check(code=code, user=friend)
    program = program_current()
    network = network_of(ip)
    status, reason = ReferralStatus.PENDING, ""
    if device_id and selectors.user_seen_on_device(user_id=referrer_code.user_id, device_id=device_id):
        status, reason = ReferralStatus.REJECTED, "Signed up on a device the referrer uses (self-referral)."
    since = now - timedelta(hours=program.review_window_hours)
    signals, related = review_signals(
        referrer_id=referrer_code.user_id, network=network, device_id=device_id, since=since
    )
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer_id=referrer_code.user_id,
                friend=friend,
                code=referrer_code.code,
                program=program,
                status=status,
                status_reason=reason,
                review_reasons=signals,
                signup_ip=ip,
                network=network,
                device_id=device_id,
            )
            for other in Referral.objects.select_for_update().filter(pk__in=related).order_by("pk"):
                if other.status in (ReferralStatus.PENDING, ReferralStatus.QUALIFYING):
                    merged = sorted({*other.review_reasons, *signals} - {ReviewSignal.REFERRER_NETWORK})
                    if merged != sorted(other.review_reasons):
                        other.review_reasons = merged
                        other.save(update_fields=["review_reasons", "updated_at"])
            device_sighting_record(user=friend, device_id=device_id, ip=ip, now=now)
    except IntegrityError as error:
        raise AlreadyReferredError() from error
    return referral


def referral_claim(*, user: User, code: str) -> None:
    """An existing account asking to be linked to a referrer. Never allowed — a code only counts at
    sign-up — but the error says exactly what is wrong: an unknown code, the person's own code, an
    account already referred, or simply too late. Nothing is ever written."""
    referral_code_check(code=code, user=user)
    if selectors.referral_of_friend(friend=user) is not None:
        raise AlreadyReferredError()
    raise ReferralAfterSignupError()
