"""Referral codes: one per consumer, created the first time it is shown, and the check of a code a
person typed (unknown, or their own)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from accounts.visitor import normalize_code
from referrals import selectors
from referrals.errors import OwnReferralCodeError, UnknownReferralCodeError
from referrals.models import ReferralCode

if TYPE_CHECKING:
    from accounts.models import User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
CODE_LENGTH = 8


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def referral_code_for(*, user: User) -> ReferralCode:
    """The consumer's code, created the first time it is asked for (race-safe: one per user)."""
    existing = ReferralCode.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(user=user, code=_new_code())
        except IntegrityError:
            existing = ReferralCode.objects.filter(user=user).first()
            if existing is not None:
                return existing  # a concurrent request created it; otherwise the code collided: retry
    raise RuntimeError("Could not find a free referral code after five tries.")


def _referrer_code(code: str) -> ReferralCode:
    normalized = normalize_code(code)
    referrer_code = selectors.referral_code_lookup(code=normalized) if normalized else None
    if referrer_code is None:
        raise UnknownReferralCodeError(fields={"referral_code": [UnknownReferralCodeError.default_message]})
    return referrer_code


def referral_code_check(*, code: str, user: User | None = None) -> ReferralCode:
    """The code's owner, or the error a person typing it should see (unknown code, their own code)."""
    referrer_code = _referrer_code(code)
    if user is not None and referrer_code.user_id == user.pk:
        raise OwnReferralCodeError(fields={"referral_code": [OwnReferralCodeError.default_message]})
    return referrer_code
