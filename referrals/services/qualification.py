"""A friend's referral on the campaigns' reward facts: the first qualifying purchase, payment of both
bonuses when its cashback matures (after the abuse rules), cancellation when it is undone before, and
expiry of referrals with no qualifying purchase in their window."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from campaigns.models import Purchase
from campaigns.selectors import purchase_by_id
from referrals import selectors
from referrals.models import Referral, ReferralProgram, ReferralProgramAmount, ReferralStatus
from referrals.services.abuse import ReviewSignal, monthly_cap_reached, self_referral_reason
from referrals.services.bonuses import bonus_pay

UNDONE_PURCHASE_STATUSES = ("refunded", "partly_refunded", "reversed")


def _lock_referral_of_friend(friend_id: int) -> Referral | None:
    # of=("self",): lock the referral only, not the programme row it is joined with.
    return (
        Referral.objects.select_for_update(of=("self",)).select_related("program").filter(friend_id=friend_id).first()
    )


def _qualifying_amounts(referral: Referral, purchase: Purchase | None) -> ReferralProgramAmount | None:
    """The programme amounts if ``purchase`` qualifies this referral: the friend's, not undone, made
    within the qualification window after sign-up, in a currency of the programme, reaching the minimum."""
    if purchase is None or purchase.user_id != referral.friend_id:
        return None
    # Any refund or a reversal disqualifies the purchase (a partial refund too: see docs/referrals.md).
    if purchase.status in UNDONE_PURCHASE_STATUSES or purchase.reversed:
        return None
    if purchase.refunded_minor:
        return None
    window_end = referral.created_at + timedelta(days=referral.program.qualification_window_days)
    if not referral.created_at - timedelta(minutes=5) <= purchase.occurred_at <= window_end:
        return None
    amounts = referral.program.amounts_for(purchase.currency)
    if amounts is None or purchase.amount_minor < amounts.min_purchase_minor:
        return None
    return amounts


def _start_qualifying(referral: Referral, purchase_id: int, now: datetime) -> bool:
    """Caller holds the referral's lock. Make ``purchase_id`` the qualifying purchase if it qualifies."""
    if referral.status not in (ReferralStatus.PENDING, ReferralStatus.EXPIRED):
        return False

    purchase = purchase_by_id(purchase_id=purchase_id)
    if purchase is None or _qualifying_amounts(referral, purchase) is None:
        return False
    referral.status = ReferralStatus.QUALIFYING
    referral.status_reason = ""
    referral.qualifying_purchase_id = purchase.pk
    referral.currency = purchase.currency
    referral.qualified_at = now
    referral.save(
        update_fields=["status", "status_reason", "qualifying_purchase", "currency", "qualified_at", "updated_at"]
    )
    return True


def referral_purchase_rewarded(
    *, friend_id: int, purchase_id: int | None, now: datetime | None = None
) -> Referral | None:
    """A purchase of ``friend_id`` earned cashback (``reward_earned``): the first one that qualifies
    becomes the referral's qualifying purchase; the bonus waits for its cashback to mature."""
    if purchase_id is None or not selectors.has_open_referral(friend_id=friend_id):
        return None
    with transaction.atomic():
        referral = _lock_referral_of_friend(friend_id)
        if referral is not None:
            _start_qualifying(referral, purchase_id, now or timezone.now())
        return referral


def referral_purchase_matured(
    *, friend_id: int, purchase_id: int | None, now: datetime | None = None
) -> Referral | None:
    """The cashback of a purchase of ``friend_id`` became available (``reward_available``). If it is
    the qualifying purchase (or qualifies now), the bonuses are paid — or held, capped or rejected by
    the abuse rules. Safe to call any number of times, concurrently too: it pays once."""
    if purchase_id is None or not selectors.has_open_referral(friend_id=friend_id):
        return None
    now = now or timezone.now()
    with transaction.atomic():
        referral = _lock_referral_of_friend(friend_id)
        if referral is None:
            return None
        _start_qualifying(referral, purchase_id, now)
        if referral.status == ReferralStatus.QUALIFYING and referral.qualifying_purchase_id == purchase_id:
            referral_settle(referral, now=now, reviewed=False)
        return referral


def referral_purchase_undone(
    *, friend_id: int, purchase_id: int | None, now: datetime | None = None
) -> Referral | None:
    """``purchase_refunded`` or ``reward_reversed`` for a purchase of ``friend_id``. If it is the
    qualifying purchase and, looked at again, no longer qualifies (refunded — even partly — reversed,
    or now below the minimum) before its cashback matured, the referral is cancelled and pays
    nothing, ever. A reward merely adjusted (a clearing below the authorised amount that still
    reaches the minimum) changes nothing; neither does anything after the bonus was paid."""
    if purchase_id is None or not selectors.has_open_referral(friend_id=friend_id):
        return None

    with transaction.atomic():
        referral = _lock_referral_of_friend(friend_id)
        if (
            referral is not None
            and referral.status == ReferralStatus.QUALIFYING
            and referral.qualifying_purchase_id == purchase_id
            and _qualifying_amounts(referral, purchase_by_id(purchase_id=purchase_id)) is None
        ):
            referral.status = ReferralStatus.CANCELLED
            referral.status_reason = "The qualifying purchase was refunded before its cashback became available."
            referral.save(update_fields=["status", "status_reason", "updated_at"])
        return referral


def _set_status(referral: Referral, status: str, reason: str = "") -> None:
    referral.status = status
    referral.status_reason = reason
    referral.save(update_fields=["status", "status_reason", "updated_at"])


def referral_settle(referral: Referral, *, now: datetime, reviewed: bool) -> None:
    """Caller holds the referral's lock; its status is qualifying (or held, when staff approve).
    Applies the abuse rules in order — self-referral, review signals, monthly cap — then pays."""
    reason = self_referral_reason(referral)
    if reason:
        _set_status(referral, ReferralStatus.REJECTED, reason)
        return
    if referral.review_reasons and not reviewed:
        labels = [ReviewSignal.LABELS.get(signal, signal) for signal in referral.review_reasons]
        _set_status(referral, ReferralStatus.HELD, "; ".join(labels) + ".")
        return
    amounts = referral.program.amounts_for(referral.currency)
    if amounts is None:  # cannot happen for a purchase that qualified; kept as a guard
        _set_status(referral, ReferralStatus.REJECTED, f"The programme pays no bonus in {referral.currency}.")
        return
    referrer = referral.referrer
    blocked = [
        who for who, user in (("referrer", referrer), ("friend", referral.friend)) if user.blocked_at is not None
    ]
    if blocked:  # a blocked person earns nothing new: the bonuses wait for staff, after the block is lifted
        _set_status(referral, ReferralStatus.HELD, f"The {' and the '.join(blocked)}'s account is blocked.")
        return
    if monthly_cap_reached(referrer=referrer, cap=referral.program.monthly_cap, now=now):
        _set_status(referral, ReferralStatus.CAPPED, "The referrer reached this month's limit of referral bonuses.")
        return
    if referral.qualifying_purchase_id is None:  # qualifying and held referrals have their purchase
        raise ValueError(f"Referral {referral.pk} has no qualifying purchase to pay a bonus for.")
    causes = {"referral": referral.pk, "purchase": referral.qualifying_purchase_id}
    bonus_pay(
        key=f"referral:{referral.pk}:referrer",
        user=referrer,
        amount_minor=amounts.referrer_bonus_minor,
        currency=referral.currency,
        memo="Referral bonus: a friend you invited made a first purchase",
        causes=causes,
    )
    bonus_pay(
        key=f"referral:{referral.pk}:friend",
        user=referral.friend,
        amount_minor=amounts.friend_bonus_minor,
        currency=referral.currency,
        memo="Welcome bonus: you joined through a friend's invitation",
        causes=causes,
    )
    referral.status = ReferralStatus.PAID
    referral.status_reason = ""
    referral.referrer_bonus_minor = amounts.referrer_bonus_minor
    referral.friend_bonus_minor = amounts.friend_bonus_minor
    referral.paid_at = now
    referral.save(
        update_fields=[
            "status",
            "status_reason",
            "referrer_bonus_minor",
            "friend_bonus_minor",
            "paid_at",
            "updated_at",
        ]
    )


def referrals_expire_due(*, now: datetime | None = None) -> int:
    """Referrals still waiting for a first purchase after their qualification window become expired.
    A purchase made inside the window whose cashback arrives later still qualifies an expired one."""
    now = now or timezone.now()
    expired = 0
    for program in ReferralProgram.objects.all():
        cutoff = now - timedelta(days=program.qualification_window_days)
        expired += Referral.objects.filter(
            program=program, status=ReferralStatus.PENDING, created_at__lt=cutoff
        ).update(status=ReferralStatus.EXPIRED, status_reason="No qualifying purchase in time.", updated_at=now)
    return expired
