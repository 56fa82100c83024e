"""The person's referral code, referrals and devices, for "download my data"; what closing the
account does to them (F-A5, docs/privacy.md).

Closing ends the referrals still open on either side (no bonus may land in a closed account), blanks
the sign-up network, address and device recorded for the person as a friend, and deletes their
device sightings and code. The referral rows stay (anonymised): the other person's bonus history
and the abuse review point at them.
"""

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.privacy_registry import (
    Eraser,
    ExportSection,
    Row,
    eraser_register,
    not_exported_register,
    section_register,
)
from referrals.models import (
    OPEN_REFERRAL_STATUSES,
    BusinessReferral,
    BusinessReferralStatus,
    DeviceSighting,
    Referral,
    ReferralCode,
    ReferralStatus,
)

OPEN_BUSINESS_STATUSES = (
    BusinessReferralStatus.SUBMITTED,
    BusinessReferralStatus.SIGNED_UP,
    BusinessReferralStatus.APPROVED,
)
CLOSED_REASON = "The account was closed."


def _code(user: User) -> list[Row]:
    return [{"code": code.code, "created_at": code.created_at} for code in ReferralCode.objects.filter(user=user)]


def _referrals(user: User) -> list[Row]:
    rows = []
    for referral in Referral.objects.filter(Q(referrer=user) | Q(friend=user)).order_by("created_at", "id"):
        as_friend = referral.friend_id == user.pk
        rows.append(
            {
                "role": "friend" if as_friend else "referrer",
                "code": referral.code,
                "status": referral.status,
                "currency": referral.currency,
                "your_bonus_minor": referral.friend_bonus_minor if as_friend else referral.referrer_bonus_minor,
                # What we recorded when you signed up with a friend's code (not the friend's own).
                "signup_ip": referral.signup_ip if as_friend else None,
                "signup_device_id": referral.device_id if as_friend else None,
                "created_at": referral.created_at,
                "paid_at": referral.paid_at,
            }
        )
    return rows


def _business_referrals(user: User) -> list[Row]:
    return [
        {
            "business_name": referral.business_name,
            "country": referral.country,
            "organisation_number": referral.organisation_number,
            "contact_email": referral.contact_email,
            "status": referral.status,
            "bonus_minor": referral.bonus_minor,
            "currency": referral.currency,
            "created_at": referral.created_at,
        }
        for referral in BusinessReferral.objects.filter(referrer=user).order_by("created_at", "id")
    ]


def _devices(user: User) -> list[Row]:
    return [
        {"device_id": sighting.device_id, "network": sighting.network, "last_seen_at": sighting.last_seen_at}
        for sighting in DeviceSighting.objects.filter(user=user).order_by("created_at", "id")
    ]


def _erase(user: User) -> dict[str, int]:
    now = timezone.now()
    ended = Referral.objects.filter(Q(referrer=user) | Q(friend=user), status__in=OPEN_REFERRAL_STATUSES).update(
        status=ReferralStatus.REJECTED, status_reason=CLOSED_REASON, updated_at=now
    )
    ended += BusinessReferral.objects.filter(referrer=user, status__in=OPEN_BUSINESS_STATUSES).update(
        status=BusinessReferralStatus.REJECTED, status_reason=CLOSED_REASON, updated_at=now
    )
    blanked = Referral.objects.filter(friend=user).update(signup_ip=None, network="", device_id="", updated_at=now)
    return {
        "referrals_ended": ended,
        "signup_details_blanked": blanked,
        "devices_removed": DeviceSighting.objects.filter(user=user).delete()[0],
        "code_removed": ReferralCode.objects.filter(user=user).delete()[0],
    }


def register() -> None:
    sections = [
        (
            "referral_code",
            "Your referral code",
            "The code friends can sign up with.",
            _code,
            ("referrals.ReferralCode.user",),
        ),
        (
            "referrals",
            "Referrals",
            "Friends you referred and the friend who referred you, with the bonuses.",
            _referrals,
            ("referrals.Referral.referrer", "referrals.Referral.friend"),
        ),
        (
            "business_referrals",
            "Business referrals",
            "Businesses you suggested as partners.",
            _business_referrals,
            ("referrals.BusinessReferral.referrer",),
        ),
        (
            "devices",
            "Devices",
            "Devices and networks (an address range, never a full address) you used the app from.",
            _devices,
            ("referrals.DeviceSighting.user",),
        ),
    ]
    for order, (name, title, description, rows, covers) in enumerate(sections):
        section_register(
            ExportSection(name=name, title=title, description=description, rows=rows, covers=covers, order=50 + order)
        )
    not_exported_register(
        fields=("referrals.ReferralProgram.created_by", "referrals.Referral.reviewed_by"),
        reason="The staff member who wrote the programme's terms or reviewed a referral: staff acting.",
    )
    eraser_register(Eraser(name="referrals", erase=_erase, order=50))
