"""Business operations on users, consents and staff roles (writes only; reads live in selectors)."""

from fnmatch import fnmatchcase
from typing import Final

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from accounts import selectors
from accounts.errors import ConsentVersionMissingError
from accounts.models import Consent, User


class _Unset:
    """Marks a profile field the caller did not send (as opposed to one it wants cleared)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def consent_record(*, user: User, kind: str, granted: bool, version: str) -> Consent:
    """Append one consent decision to the user's history; the newest row per kind is the one in force."""
    if not version:
        raise ConsentVersionMissingError()
    with transaction.atomic():
        return Consent.objects.create(user=user, kind=kind, granted=granted, version=version, created_at=timezone.now())


def signup_consents_record(*, user: User, accepted_terms: bool, marketing: bool) -> list[Consent]:
    """Record the decisions a person made on the sign-up form.

    Precondition: the form has checked that the terms were accepted (sign-up is impossible otherwise).
    The marketing decision is recorded either way, so the history shows what the person was asked.
    """
    with transaction.atomic():
        return [
            consent_record(user=user, kind=Consent.Kind.TERMS, granted=accepted_terms, version=settings.TERMS_VERSION),
            consent_record(
                user=user,
                kind=Consent.Kind.MARKETING,
                granted=marketing,
                version=settings.MARKETING_CONSENT_VERSION,
            ),
        ]


def marketing_consent_set(*, user: User, granted: bool) -> Consent | None:
    """Give or withdraw marketing consent; returns the new row, or None if the decision in force is unchanged."""
    with transaction.atomic():
        current = selectors.consent_in_force(user=user, kind=Consent.Kind.MARKETING)
        if current is not None and current.granted == granted and current.version == settings.MARKETING_CONSENT_VERSION:
            return None
        return consent_record(
            user=user, kind=Consent.Kind.MARKETING, granted=granted, version=settings.MARKETING_CONSENT_VERSION
        )


def profile_update(
    *,
    user: User,
    full_name: str | _Unset = UNSET,
    birth_year: int | _Unset | None = UNSET,
    gender: str | _Unset = UNSET,
    city: str | _Unset = UNSET,
    language: str | _Unset = UNSET,
) -> User:
    """Change the optional profile fields that were given; fields left UNSET keep their value.

    Precondition: values are validated at the door (form or serializer), e.g. a plausible birth year.
    """
    changes = {
        name: value
        for name, value in {
            "full_name": full_name,
            "birth_year": birth_year,
            "gender": gender,
            "city": city,
            "language": language,
        }.items()
        if value is not UNSET
    }
    if not changes:
        return user
    with transaction.atomic():
        for name, value in changes.items():
            setattr(user, name, value)
        user.save(update_fields=[*changes, "updated_at"])
    return user


# Staff roles -----------------------------------------------------------------

ADMINISTRATOR = "administrator"
FINANCE = "finance"
SUPPORT = "support"
MARKETING = "marketing"

STAFF_ROLE_PERMISSIONS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    ADMINISTRATOR: (("*", "*"),),
    FINANCE: (
        ("accounts", "view_user"),
        ("accounts", "change_user"),
        ("accounts", "view_consent"),
        ("wallet", "*"),
        ("merchants", "view_*"),
        ("charity", "view_*"),
    ),
    SUPPORT: (
        ("accounts", "view_user"),
        ("accounts", "view_consent"),
    ),
    MARKETING: (
        ("accounts", "view_user"),
        ("campaigns", "*"),
    ),
}
"""Which Django permissions each staff role (a ``Group`` of the same name) holds.

Each entry is ``(app_label, codename pattern)``; patterns use shell wildcards and are matched
against the permissions that exist when ``staff_roles_sync`` runs, so an app added later is
covered by re-running ``manage.py sync_staff_roles`` after its migrations:

- **administrator**: every permission of every app.
- **finance**: view and change users (to correct payout details), view consents, everything in
  ``wallet`` (ledger, payouts), and read-only access to ``merchants`` and ``charity``
  (billing and disbursements are looked up there).
- **support**: view users and their consents (answering questions; no changes).
- **marketing**: view users (segments), everything in ``campaigns`` (offers, challenges).
"""


def _role_permissions(patterns: tuple[tuple[str, str], ...], permissions: list[Permission]) -> list[Permission]:
    return [
        permission
        for permission in permissions
        if any(
            fnmatchcase(permission.content_type.app_label, app_label) and fnmatchcase(permission.codename, codename)
            for app_label, codename in patterns
        )
    ]


def staff_roles_sync() -> dict[str, int]:
    """Create the staff role groups if missing and set their permissions to exactly the mapping above.

    Idempotent: running it twice changes nothing the second time. Returns the number of
    permissions each role holds afterwards.
    """
    permissions = list(Permission.objects.select_related("content_type").order_by("pk"))
    counts: dict[str, int] = {}
    with transaction.atomic():
        for role, patterns in STAFF_ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=role)
            granted = _role_permissions(patterns, permissions)
            group.permissions.set(granted)
            counts[role] = len(granted)
    return counts
