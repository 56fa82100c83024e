"""Reads of the referral programme for the services' checks, the consumer's pages, the API and staff."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from campaigns.models import OfferStatus
from campaigns.selectors import offer_list
from referrals.models import (
    BusinessReferral,
    BusinessReferralStatus,
    DeviceSighting,
    Referral,
    ReferralCode,
    ReferralProgram,
    ReferralProgramAmount,
    ReferralStatus,
)
from wallet.money import minor_to_decimal_string

if TYPE_CHECKING:
    from accounts.models import User

# Referrals a purchase fact can still move: waiting for a purchase, waiting for its cashback, or
# expired (a purchase made inside the window may be reported late).
FACT_SENSITIVE_STATUSES = (ReferralStatus.PENDING, ReferralStatus.QUALIFYING, ReferralStatus.EXPIRED)


def program_in_force() -> ReferralProgram | None:
    """The newest version of the programme with its amounts, or None before the first one exists."""
    return (
        ReferralProgram.objects.prefetch_related(
            Prefetch("amounts", queryset=ReferralProgramAmount.objects.order_by("currency"))
        )
        .order_by("-version")
        .first()
    )


def program_versions(*, limit: int = 20) -> list[ReferralProgram]:
    return list(
        ReferralProgram.objects.select_related("created_by")
        .prefetch_related(Prefetch("amounts", queryset=ReferralProgramAmount.objects.order_by("currency")))
        .order_by("-version")[:limit]
    )


def referral_code_lookup(*, code: str) -> ReferralCode | None:
    """The code row (with its owner) for a normalised code, or None."""
    if not code:
        return None
    return ReferralCode.objects.select_related("user").filter(code=code).first()


def referral_of_friend(*, friend: User) -> Referral | None:
    return Referral.objects.filter(friend=friend).first()


def has_open_referral(*, friend_id: int) -> bool:
    """One indexed EXISTS: cheap enough to run on every reward fact of every consumer."""
    return Referral.objects.filter(friend_id=friend_id, status__in=FACT_SENSITIVE_STATUSES).exists()


# --- Abuse checks ----------------------------------------------------------------------------------


def recent_referral_ids(
    *, since: datetime, referrer_id: int | None = None, network: str = "", device_id: str = ""
) -> list[int]:
    """Referrals created since ``since`` from this network (of this referrer) or this device (any referrer)."""
    queryset = Referral.objects.filter(created_at__gte=since)
    if referrer_id is not None:
        queryset = queryset.filter(referrer_id=referrer_id)
    if network:
        queryset = queryset.filter(network=network)
    if device_id:
        queryset = queryset.filter(device_id=device_id)
    return list(queryset.values_list("pk", flat=True))


def user_seen_on_network(*, user_id: int, network: str, since: datetime) -> bool:
    return DeviceSighting.objects.filter(user_id=user_id, network=network, last_seen_at__gte=since).exists()


def user_seen_on_device(*, user_id: int, device_id: str) -> bool:
    return bool(device_id) and DeviceSighting.objects.filter(user_id=user_id, device_id=device_id).exists()


def shared_device_ids(*, user_id: int, other_user_id: int) -> set[str]:
    """Device ids both people were seen on."""
    mine = DeviceSighting.objects.filter(user_id=user_id).exclude(device_id="").values_list("device_id", flat=True)
    return set(
        DeviceSighting.objects.filter(user_id=other_user_id, device_id__in=mine).values_list("device_id", flat=True)
    )


def bonuses_paid_in_month(*, referrer_id: int, at: datetime) -> int:
    """Bonuses paid to ``referrer_id`` as referrer (friends and businesses) in ``at``'s calendar month,
    in the site's time zone."""
    local = timezone.localtime(at)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    friends = Referral.objects.filter(
        referrer_id=referrer_id, status=ReferralStatus.PAID, paid_at__gte=start, paid_at__lt=end
    ).count()
    businesses = BusinessReferral.objects.filter(
        referrer_id=referrer_id, status=BusinessReferralStatus.PAID, paid_at__gte=start, paid_at__lt=end
    ).count()
    return friends + businesses


def merchant_has_live_offer(*, merchant_id: int) -> bool:
    return offer_list(merchant_id=merchant_id, status=OfferStatus.LIVE).exists()


# --- The consumer's view ---------------------------------------------------------------------------------


def referrals_made(*, user: User) -> QuerySet[Referral]:
    """The friends the consumer referred, newest first (the friend's name is not shown, only initials)."""
    return Referral.objects.filter(referrer=user).select_related("friend").order_by("-created_at", "-id")


def business_referrals_made(*, user: User) -> QuerySet[BusinessReferral]:
    return BusinessReferral.objects.filter(referrer=user).select_related("merchant").order_by("-created_at", "-id")


@dataclass
class EarnedTotals:
    """Referral bonuses a consumer was paid, per currency, in minor units."""

    by_currency: dict[str, int] = field(default_factory=dict)

    def as_decimal_strings(self) -> list[dict[str, str]]:
        return [
            {"currency": currency, "amount": minor_to_decimal_string(amount, currency)}
            for currency, amount in sorted(self.by_currency.items())
        ]


def referral_earnings(*, user: User) -> EarnedTotals:
    """What the consumer earned from the programme: as referrer, as a referred friend, and for
    businesses. Three aggregate queries; equal to the consumer's ``referral_bonus`` ledger credits."""
    totals: dict[str, int] = defaultdict(int)
    paid = Q(status=ReferralStatus.PAID)
    for row in (
        Referral.objects.filter(paid, referrer=user).values("currency").annotate(total=Sum("referrer_bonus_minor"))
    ):
        totals[row["currency"]] += row["total"] or 0
    for row in Referral.objects.filter(paid, friend=user).values("currency").annotate(total=Sum("friend_bonus_minor")):
        totals[row["currency"]] += row["total"] or 0
    for row in (
        BusinessReferral.objects.filter(referrer=user, status=BusinessReferralStatus.PAID)
        .values("currency")
        .annotate(total=Sum("bonus_minor"))
    ):
        totals[row["currency"]] += row["total"] or 0
    return EarnedTotals(by_currency={currency: amount for currency, amount in totals.items() if amount})


def friend_label(user: User) -> str:
    """How a referred friend is shown to the referrer: first name and initial, or a masked address."""
    name = (getattr(user, "full_name", "") or "").strip()
    if name:
        parts = name.split()
        return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."
    email = getattr(user, "email", "") or ""
    if email:
        local, _, domain = email.partition("@")
        return f"{local[:1]}…@{domain}"
    phone = getattr(user, "phone", "") or ""
    return f"…{phone[-3:]}" if phone else "A friend"


# --- Staff ------------------------------------------------------------------------------------------------


def review_queue() -> QuerySet[Referral]:
    """Referrals held for review, oldest first."""
    return (
        Referral.objects.filter(status=ReferralStatus.HELD)
        .select_related("referrer", "friend", "program", "qualifying_purchase")
        .order_by("updated_at", "id")
    )


def referral_for_staff(*, referral_id: int) -> Referral | None:
    return (
        Referral.objects.select_related("referrer", "friend", "program", "qualifying_purchase", "reviewed_by")
        .filter(pk=referral_id)
        .first()
    )


def related_referrals(*, referral: Referral, limit: int = 20) -> list[Referral]:
    """Other referrals sharing the referral's referrer network or device: the evidence staff look at."""
    condition = Q(pk__in=[])
    if referral.network:
        condition |= Q(network=referral.network)
    if referral.device_id:
        condition |= Q(device_id=referral.device_id)
    return list(
        Referral.objects.filter(condition)
        .exclude(pk=referral.pk)
        .select_related("referrer", "friend")
        .order_by("-created_at")[:limit]
    )


def status_counts() -> dict[str, int]:
    return {row["status"]: row["n"] for row in Referral.objects.values("status").annotate(n=Count("id")).order_by()}
