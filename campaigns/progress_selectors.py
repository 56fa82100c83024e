"""Challenge progress as the consumer sees it (F-C3): every challenge they take part in, with the
target, how far they are, the days left, what it pays and where it stands.

A consumer takes part in a challenge when they have progress or a bonus in it, or when it is live
(its offer live and running now, at an approved merchant): the bonus rule
(``services.challenges``) counts every consumer's purchases at the merchant within the offer's
period, whatever the offer's audience, so every live challenge is open to everyone.

Progress is the ``ChallengeProgress`` row the bonus rule keeps (recomputed after every purchase
event at the merchant), so the bar and the bonus decision never disagree. ``challenges_taken_part``
is one query however many challenges (the bonus and progress come as subqueries), so a page of
them costs the same for one or a hundred.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.amount_words import amount_number, amount_words
from campaigns.models import Challenge, ChallengeProgress, OfferStatus, Reward, RewardKind
from campaigns.rules import ChallengeTarget
from merchants.models import MerchantStatus

if TYPE_CHECKING:
    from accounts.models import User

DAY = timedelta(days=1)


class ChallengeStatus(enum.StrEnum):
    """Where a challenge stands for one consumer. Stable codes: the app keys its labels on them."""

    RUNNING = "running"  # the period runs and the target is not reached yet
    REACHED = "reached"  # the target is reached: the bonus is pending (matures like a reward)
    PAID = "paid"  # the bonus matured: it is in the available balance
    EXPIRED = "expired"  # the period ended before the target was reached


STATUS_LABELS = {
    ChallengeStatus.RUNNING: "Running",
    ChallengeStatus.REACHED: "Reached",
    ChallengeStatus.PAID: "Paid",
    ChallengeStatus.EXPIRED: "Expired",
}

# The colour of each status's badge (templates/components/badge.html).
STATUS_BADGES = {
    ChallengeStatus.RUNNING: "info",
    ChallengeStatus.REACHED: "pending",
    ChallengeStatus.PAID: "paid",
    ChallengeStatus.EXPIRED: "expired",
}


@dataclass(frozen=True)
class ChallengeProgressView:
    """One challenge for one consumer. Revenue targets are minor units of ``currency``; purchase-count
    targets are numbers of purchases. ``days_left`` is ``None`` once the challenge is not running."""

    challenge_id: int
    title: str
    offer_id: int
    offer_title: str
    merchant_id: int
    merchant_name: str
    target_type: str
    target: int
    progress: int
    currency: str
    bonus_minor: int
    starts_at: datetime
    ends_at: datetime
    status: ChallengeStatus
    days_left: int | None

    @property
    def is_revenue(self) -> bool:
        return self.target_type == ChallengeTarget.REVENUE

    @property
    def percent(self) -> int:
        """Whole percent of the target reached, 0-100 (progress beyond the target shows 100)."""
        return min(100, self.progress * 100 // self.target)

    @property
    def remaining(self) -> int:
        return max(0, self.target - self.progress)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES[self.status]

    @property
    def progress_text(self) -> str:
        """ "650 of 1 000 kr spent" or "3 of 10 purchases"."""
        if self.is_revenue:
            return f"{amount_number(self.progress, self.currency)} of {amount_words(self.target, self.currency)} spent"
        return f"{self.progress} of {self.target} purchase{'' if self.target == 1 else 's'}"

    @property
    def days_left_text(self) -> str:
        if self.status == ChallengeStatus.EXPIRED:
            return "Ended"
        if self.days_left is None:
            return ""
        return f"{self.days_left} day{'' if self.days_left == 1 else 's'} left"

    @property
    def bonus_text(self) -> str:
        return f"Pays a {amount_words(self.bonus_minor, self.currency)} bonus"

    @property
    def summary(self) -> str:
        """The whole line a screen reader reads for the bar: "650 of 1 000 kr spent, 12 days left"."""
        return ", ".join(part for part in (self.progress_text, self.days_left_text) if part)


def challenges_taken_part(*, user: User, now: datetime | None = None) -> QuerySet[Challenge]:
    """The consumer's challenges, one query: running ones first (the soonest to end first), then the
    ended ones (the latest first). Each row carries ``progress_value``, ``bonus_amount_minor`` and
    ``bonus_matured_at`` for ``progress_views``."""
    now = now or timezone.now()
    progress = ChallengeProgress.objects.filter(challenge=OuterRef("pk"), user=user)
    bonus = Reward.objects.filter(kind=RewardKind.CHALLENGE, challenge=OuterRef("pk"), user=user)
    live = Q(
        offer__status=OfferStatus.LIVE,
        offer__starts_at__lte=now,
        offer__ends_at__gt=now,
        offer__merchant__status=MerchantStatus.APPROVED,
    )
    return (
        Challenge.objects.filter(live | Q(Exists(progress)) | Q(Exists(bonus)))
        .select_related("offer", "offer__merchant")
        .annotate(
            progress_value=Coalesce(Subquery(progress.values("value")[:1]), Value(0)),
            bonus_amount_minor=Subquery(bonus.values("amount_minor")[:1]),
            bonus_matured_at=Subquery(bonus.values("matured_at")[:1]),
            has_ended=Case(When(offer__ends_at__lte=now, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
        .order_by("has_ended", Case(When(has_ended=0, then="offer__ends_at")), "-offer__ends_at", "id")
    )


def _status(challenge: Challenge, *, now: datetime) -> ChallengeStatus:
    bonus = challenge.bonus_amount_minor  # type: ignore[attr-defined]  # annotated by challenges_taken_part
    if bonus:
        matured = challenge.bonus_matured_at  # type: ignore[attr-defined]  # annotated by challenges_taken_part
        return ChallengeStatus.PAID if matured is not None else ChallengeStatus.REACHED
    if challenge.progress_value >= challenge.target_value:  # type: ignore[attr-defined]  # annotated
        return ChallengeStatus.REACHED
    if challenge.offer.ends_at <= now:
        return ChallengeStatus.EXPIRED
    return ChallengeStatus.RUNNING


def days_left(*, ends_at: datetime, now: datetime) -> int:
    """Whole days until the end, rounded up: 3 hours left is "1 day left"; 0 once it has ended."""
    remaining = ends_at - now
    if remaining <= timedelta(0):
        return 0
    return -(-remaining // DAY)


def progress_views(challenges: Iterable[Challenge], *, now: datetime | None = None) -> list[ChallengeProgressView]:
    """Rows of ``challenges_taken_part`` as what the pages and the API show (no further queries)."""
    now = now or timezone.now()
    views = []
    for challenge in challenges:
        offer = challenge.offer
        status = _status(challenge, now=now)
        views.append(
            ChallengeProgressView(
                challenge_id=challenge.pk,
                title=challenge.title,
                offer_id=offer.pk,
                offer_title=offer.title,
                merchant_id=offer.merchant_id,
                merchant_name=offer.merchant.display_name,
                target_type=challenge.target_type,
                target=challenge.target_value,
                progress=challenge.progress_value,  # type: ignore[attr-defined]  # annotated
                currency=offer.currency,
                bonus_minor=challenge.bonus_minor,
                starts_at=offer.starts_at,
                ends_at=offer.ends_at,
                status=status,
                days_left=days_left(ends_at=offer.ends_at, now=now)
                if status in (ChallengeStatus.RUNNING, ChallengeStatus.REACHED) and offer.ends_at > now
                else None,
            )
        )
    return views


def challenge_progress_of(
    *, user: User, now: datetime | None = None, offer_ids: Iterable[int] | None = None, limit: int | None = None
) -> list[ChallengeProgressView]:
    """The consumer's challenges as views (one query); only those of ``offer_ids`` when given (an
    offers page showing progress on each offer), at most ``limit`` (the wallet home's summary)."""
    now = now or timezone.now()
    challenges = challenges_taken_part(user=user, now=now)
    if offer_ids is not None:
        challenges = challenges.filter(offer_id__in=list(offer_ids))
    if limit is not None:
        challenges = challenges[:limit]
    return progress_views(challenges, now=now)
