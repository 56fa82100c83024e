"""The staff review of held referrals: approve (paid, still subject to self-referral and the cap) or
reject with a reason."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from referrals.errors import ReasonRequiredError, ReferralNotFoundError, ReferralNotHeldError
from referrals.models import Referral, ReferralStatus
from referrals.services.qualification import referral_settle

if TYPE_CHECKING:
    from accounts.models import User


def _lock_held(referral_id: int) -> Referral:
    referral = Referral.objects.select_for_update(of=("self",)).select_related("program").filter(pk=referral_id).first()
    if referral is None:
        raise ReferralNotFoundError()
    if referral.status != ReferralStatus.HELD:
        raise ReferralNotHeldError()
    return referral


def referral_review_approve(*, referral_id: int, actor: User, now: datetime | None = None) -> Referral:
    """Staff found the held referral genuine: pay it (still subject to self-referral and the cap)."""
    now = now or timezone.now()
    with transaction.atomic():
        referral = _lock_held(referral_id)
        referral.reviewed_by = actor
        referral.reviewed_at = now
        referral.save(update_fields=["reviewed_by", "reviewed_at", "updated_at"])
        referral_settle(referral, now=now, reviewed=True)
    return referral


def referral_review_reject(*, referral_id: int, actor: User, reason: str, now: datetime | None = None) -> Referral:
    """Staff found the held referral abusive: it pays nothing, and the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequiredError(fields={"reason": [ReasonRequiredError.default_message]})
    with transaction.atomic():
        referral = _lock_held(referral_id)
        referral.status = ReferralStatus.REJECTED
        referral.status_reason = reason[:300]
        referral.reviewed_by = actor
        referral.reviewed_at = now or timezone.now()
        referral.save(update_fields=["status", "status_reason", "reviewed_by", "reviewed_at", "updated_at"])
    return referral
