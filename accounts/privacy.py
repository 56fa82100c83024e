"""What the accounts app holds about a person (profile, consents, cards, sign-in sessions), for the
export, and how closing the account anonymises the user row itself. Registered in ``apps.py``."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.utils import timezone

from accounts.data_export import data_exports_delete
from accounts.models import Card, Consent, Device, User
from accounts.privacy_registry import (
    Eraser,
    ErasureBlocker,
    ExportSection,
    Row,
    eraser_register,
    not_exported_register,
    section_register,
)
from cashback import events


def _profile(user: User) -> list[Row]:
    return [
        {
            "account_number": user.pk,
            "email": user.email,
            "phone": user.phone,
            "phone_verified": user.phone_verified,
            "full_name": user.full_name,
            "birth_year": user.birth_year,
            "birth_date": user.birth_date,
            "gender": user.gender,
            "city": user.city,
            "language": user.language,
            "time_zone": user.time_zone,
            "joined_at": user.date_joined,
            "last_login_at": user.last_login,
        }
    ]


def _consents(user: User) -> list[Row]:
    return [
        {"kind": consent.kind, "granted": consent.granted, "version": consent.version, "decided_at": consent.created_at}
        for consent in Consent.objects.filter(user=user).order_by("created_at", "id")
    ]


def _cards(user: User) -> list[Row]:
    # As stored, masked: never the network token (it would let someone match purchases to the card).
    return [
        {
            "scheme": card.scheme,
            "first_six": card.first_six,
            "last_four": card.last_four,
            "expiry": card.expiry,
            "status": card.status,
            "linked_at": card.created_at,
            "removed_at": card.removed_at,
        }
        for card in Card.objects.filter(user=user).order_by("created_at", "id")
    ]


def _sessions(user: User) -> list[Row]:
    return [
        {
            "ip": session.ip,
            "user_agent": session.user_agent,
            "signed_in_at": session.created_at,
            "last_seen_at": session.last_seen_at,
        }
        for session in UserSession.objects.filter(user=user).order_by("created_at", "id")
    ]


def _blockers(user: User) -> list[ErasureBlocker]:
    if user.is_staff or user.is_superuser:
        return [
            ErasureBlocker(
                code="staff_account",
                message="Staff accounts are closed by an administrator, not from the wallet.",
            )
        ]
    return []


def _devices(user: User) -> list[Row]:
    return [
        {"platform": device.platform, "app_version": device.app_version, "registered_at": device.created_at}
        for device in Device.objects.filter(user=user).order_by("created_at", "id")
    ]


def _erase(user: User) -> dict[str, int]:
    """Anonymise the user row (the shell keeps its id, so the ledger keeps its owner), revoke cards,
    sign-in methods and sessions, drop exports, and blank the network and device in sign-up facts.

    Cards are set to removed (the card network has no revoke call; see docs/cards.md) and keep their
    token, so the same card can never be linked to another account through this one's history.
    """
    now = timezone.now()
    cards = Card.objects.filter(user=user, status=Card.Status.ACTIVE).update(
        status=Card.Status.REMOVED, removed_at=now, updated_at=now
    )
    sessions = 0
    for session in UserSession.objects.filter(user=user):
        session.end()  # deletes the session (web cookie or app token) and its record with IP and agent
        sessions += 1
    counts = {
        "cards_revoked": cards,
        "devices_removed": Device.objects.filter(user=user).delete()[0],
        "sessions_ended": sessions,
        "email_addresses_removed": EmailAddress.objects.filter(user=user).delete()[0],
        "authenticators_removed": Authenticator.objects.filter(user=user).delete()[0],
        "exports_removed": data_exports_delete(user=user),
        "facts_redacted": events.facts_redact(user_id=user.pk, keys=("ip", "device_id")),
    }
    user.email = None
    user.phone = None
    user.phone_verified = False
    user.full_name = ""
    user.birth_year = None
    user.birth_date = None
    user.gender = ""
    user.city = ""
    user.language = ""
    user.time_zone = ""
    user.is_active = False
    user.erased_at = now
    # A new password hash also signs out any session allauth did not track (Django checks it per request).
    user.set_unusable_password()
    user.save()
    return counts


def register() -> None:
    section_register(
        ExportSection(
            name="profile",
            title="Your profile",
            description="Sign-in details and the optional profile fields you gave.",
            rows=_profile,
            order=10,
        )
    )
    section_register(
        ExportSection(
            name="consents",
            title="Your consents",
            description="Every consent decision, with the version of the text you were shown.",
            rows=_consents,
            covers=("accounts.Consent.user",),
            order=11,
        )
    )
    section_register(
        ExportSection(
            name="cards",
            title="Linked cards",
            description="Cards as we store them: scheme, first six and last four digits, expiry, status.",
            rows=_cards,
            covers=("accounts.Card.user",),
            order=12,
        )
    )
    section_register(
        ExportSection(
            name="sessions",
            title="Sign-in sessions",
            description="Where you are signed in: network address and browser or app, with times.",
            rows=_sessions,
            order=13,
        )
    )
    section_register(
        ExportSection(
            name="push_devices",
            title="Phones for push messages",
            description="The phones you registered for push messages (platform and app version; not the token).",
            rows=_devices,
            covers=("accounts.Device.user",),
            order=14,
        )
    )
    not_exported_register(
        fields=("accounts.DataExport.user",), reason="The exports themselves: the zip is what the person downloads."
    )
    not_exported_register(
        fields=("accounts.AuditRecord.subject",),
        reason="Staff audit of the erasure; written when the account is closed, after the last export.",
    )
    not_exported_register(
        fields=("accounts.StaffAuditEntry.actor",),
        reason="The staff member who acted, in the platform's own audit of staff actions; not data about the person.",
    )
    not_exported_register(
        fields=("accounts.UserBlockEvent.user", "accounts.UserBlockEvent.actor"),
        reason="Staff's record of blocking and unblocking an account (fraud prevention); not exported.",
    )
    not_exported_register(
        fields=("accounts.StaffInvitation.user", "accounts.StaffInvitation.invited_by"),
        reason="The invitation staff sent when they created the account; it holds only a token's hash.",
    )
    eraser_register(Eraser(name="accounts", erase=_erase, blockers=_blockers, order=1000))
