"""Business operations on users, consents and staff roles (writes only; reads live in selectors)."""

import datetime
from fnmatch import fnmatchcase
from typing import Final

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors
from accounts.errors import CardLinkedToAnotherUserError, CardNotFoundError, ConsentVersionMissingError
from accounts.models import Card, Consent, Device, User
from cashback import events
from cashback.providers.card_network import get_card_network


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


def signup_complete(
    *,
    user: User,
    accepted_terms: bool,
    marketing: bool,
    referral_code: str = "",
    ip: str | None = None,
    device_id: str = "",
) -> None:
    """The last step of a sign-up (web page and app alike): record the consents and announce
    ``user_signed_up`` in one transaction.

    ``referral_code`` is the code the person typed or the one remembered from a friend's link (the
    referral programme subscribes and links the friend); ``ip`` and ``device_id`` travel as plain
    values because subscribers run after commit, without the request.
    """
    with transaction.atomic():
        signup_consents_record(user=user, accepted_terms=accepted_terms, marketing=marketing)
        events.announce("user_signed_up", user_id=user.pk, referral_code=referral_code, ip=ip, device_id=device_id)


def marketing_consent_set(*, user: User, granted: bool) -> Consent | None:
    """Give or withdraw marketing consent; returns the new row, or None if the decision in force is unchanged."""
    with transaction.atomic():
        current = selectors.consent_in_force(user=user, kind=Consent.Kind.MARKETING)
        if current is not None and current.granted == granted and current.version == settings.MARKETING_CONSENT_VERSION:
            return None
        return consent_record(
            user=user, kind=Consent.Kind.MARKETING, granted=granted, version=settings.MARKETING_CONSENT_VERSION
        )


def location_consent_set(*, user: User, granted: bool) -> Consent | None:
    """Give or withdraw consent to position reports (geofencing); None if the decision in force is unchanged."""
    with transaction.atomic():
        current = selectors.consent_in_force(user=user, kind=Consent.Kind.LOCATION)
        if current is not None and current.granted == granted and current.version == settings.LOCATION_CONSENT_VERSION:
            return None
        return consent_record(
            user=user, kind=Consent.Kind.LOCATION, granted=granted, version=settings.LOCATION_CONSENT_VERSION
        )


def device_register(*, user: User, token: str, platform: str, app_version: str = "") -> Device:
    """Register (or refresh) a push token for ``user``; a token seen under another person moves to this one."""
    with transaction.atomic():
        device, _ = Device.objects.select_for_update().update_or_create(
            token=token, defaults={"user": user, "platform": platform, "app_version": app_version}
        )
    return device


def device_remove(*, user: User, token: str) -> int:
    """Forget one of ``user``'s push tokens (sign-out on the phone); returns how many were removed (0 or 1)."""
    return Device.objects.filter(user=user, token=token).delete()[0]


def devices_remove_dead(*, tokens: list[str]) -> int:
    """Delete tokens the push provider reported as no longer registered."""
    if not tokens:
        return 0
    return Device.objects.filter(token__in=tokens).delete()[0]


def profile_update(
    *,
    user: User,
    full_name: str | _Unset = UNSET,
    birth_year: int | _Unset | None = UNSET,
    birth_date: datetime.date | _Unset | None = UNSET,
    gender: str | _Unset = UNSET,
    city: str | _Unset = UNSET,
    language: str | _Unset = UNSET,
    time_zone: str | _Unset = UNSET,
) -> User:
    """Change the optional profile fields that were given; fields left UNSET keep their value.

    Precondition: values are validated at the door (form or serializer), e.g. a plausible birth year.
    """
    changes = {
        name: value
        for name, value in {
            "full_name": full_name,
            "birth_year": birth_year,
            "birth_date": birth_date,
            "gender": gender,
            "city": city,
            "language": language,
            "time_zone": time_zone,
        }.items()
        if value is not UNSET
    }
    if not changes:
        return user
    if isinstance(birth_date, datetime.date) and "birth_year" not in changes:
        changes["birth_year"] = birth_date.year  # the day says the year too
    with transaction.atomic():
        was_complete = profile_is_complete(user)
        for name, value in changes.items():
            setattr(user, name, value)
        user.save(update_fields=[*changes, "updated_at"])
        if not was_complete and profile_is_complete(user):
            # Once per person, ever: emptying a field and filling it again is not a second completion.
            events.announce("profile_completed", once_key=f"user:{user.pk}", user_id=user.pk)
    return user


PROFILE_FIELDS = ("full_name", "birth_date", "gender", "city")


def profile_is_complete(user: User) -> bool:
    """Name, birthday, gender (may be "prefer not to say") and city given, and a way to reach them."""
    return bool(user.email or user.phone) and all(getattr(user, name) for name in PROFILE_FIELDS)


# Linked cards ----------------------------------------------------------------


def card_link(*, user: User, token: str) -> Card:
    """Link the card behind a network token to ``user`` and return it.

    The token is checked with the card network first (``card_lookup``, outside the database
    transaction: it may be a network call), and what the network says is stored — never a card
    number. Linking is idempotent: an active card of the same user is returned as it is (details
    refreshed); a card the user removed is reactivated. A token already linked to someone else,
    even a removed card, raises ``CardLinkedToAnotherUserError`` (409): a card belongs to one
    account only. Announces ``card_linked`` inside the transaction when a card becomes active,
    so that parked card-network events for this token are matched again.
    """
    details = get_card_network().card_lookup(token)
    fields = {
        "first_six": details.first_six,
        "last_four": details.last_four,
        "exp_month": details.exp_month,
        "exp_year": details.exp_year,
        "scheme": details.scheme,
    }
    for _attempt in range(2):
        try:
            with transaction.atomic():
                card = Card.objects.select_for_update().filter(network_token=details.token).first()
                if card is None:
                    card = Card.objects.create(user=user, network_token=details.token, **fields)
                    became_active = True
                elif card.user_id != user.pk:
                    raise CardLinkedToAnotherUserError()
                else:
                    became_active = card.status == Card.Status.REMOVED
                    for name, value in fields.items():
                        setattr(card, name, value)
                    card.status = Card.Status.ACTIVE
                    card.removed_at = None
                    card.save(update_fields=[*fields, "status", "removed_at", "updated_at"])
                if became_active:
                    events.announce("card_linked", user_id=user.pk, card_id=card.pk)
                return card
        except IntegrityError:
            # Two requests linked the same new token at once; the loser retries and finds the row.
            continue
    raise CardLinkedToAnotherUserError()


def card_remove(*, user: User, card_id: int) -> Card:
    """Remove one of the user's cards: purchases with its token no longer earn. Idempotent.

    Another user's card is "not found" (its existence is not revealed).
    """
    with transaction.atomic():
        card = Card.objects.select_for_update().filter(pk=card_id, user=user).first()
        if card is None:
            raise CardNotFoundError()
        if card.status != Card.Status.REMOVED:
            card.status = Card.Status.REMOVED
            card.removed_at = timezone.now()
            card.save(update_fields=["status", "removed_at", "updated_at"])
        return card


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
        ("accounts", "view_auditrecord"),
        ("wallet", "*"),
        ("merchants", "view_*"),
        ("charity", "*"),
        ("cashback", "view_webhookevent"),
        ("cashback", "change_webhookevent"),
        ("cashback", "view_factdelivery"),
        ("cashback", "change_factdelivery"),
        # People (issue 16): finance blocks and unblocks people and reads the support page and audit log.
        ("accounts", "block_user"),
        ("accounts", "view_card"),
        ("accounts", "view_userblockevent"),
        ("accounts", "view_staffauditentry"),
        ("campaigns", "view_purchase"),
        ("campaigns", "view_reward"),
        # Business cashback (issue 21): the money to set aside for it.
        ("campaigns", "view_cashback_forecast"),
        ("referrals", "view_*"),
        ("notifications", "view_*"),
        ("monitoring", "*"),
    ),
    SUPPORT: (
        ("accounts", "view_user"),
        ("accounts", "view_consent"),
        ("accounts", "view_auditrecord"),
        ("cashback", "view_webhookevent"),
        ("cashback", "view_factdelivery"),
        # People (issue 16): a person's support page reads their cards, wallet, purchases, giving,
        # referrals and notifications; support creates accounts and invites people; no money moves.
        ("accounts", "view_card"),
        ("accounts", "add_user"),
        ("accounts", "view_userblockevent"),
        ("accounts", "view_staffauditentry"),
        # The wallet's records, read-only; not manual adjustments or platform analytics (finance's).
        *(
            ("wallet", f"view_{model}")
            for model in (
                "ledgeraccount",
                "journaltransaction",
                "entry",
                "hold",
                "payoutaccount",
                "payout",
                "payoutstatuschange",
                "spendcode",
                "statement",
            )
        ),
        ("campaigns", "view_purchase"),
        ("campaigns", "view_reward"),
        ("charity", "view_*"),
        ("referrals", "view_*"),
        ("notifications", "view_*"),
        ("monitoring", "view_fraudflag"),
        ("monitoring", "hold_fraudflag"),
    ),
    MARKETING: (
        ("accounts", "view_user"),
        ("campaigns", "*"),
        ("campaigns", "!view_cashback_forecast"),  # finance's: what the platform owes, not a campaign
        ("referrals", "*"),
        ("content", "*"),
    ),
}
"""Which Django permissions each staff role (a ``Group`` of the same name) holds.

Each entry is ``(app_label, codename pattern)`` (a pattern starting with ``!`` withholds what it
matches from the role's other patterns); patterns use shell wildcards and are matched
against the permissions that exist when ``staff_roles_sync`` runs, so an app added later is
covered by re-running ``manage.py sync_staff_roles`` after its migrations:

- **administrator**: every permission of every app.
- **finance**: view and change users (to correct payout details), view consents and closed accounts, everything in
  ``wallet`` (ledger, payouts) and ``charity`` (partner charities and their monthly
  disbursements), read-only access to ``merchants`` (billing is looked up there), and the webhook
  inbox (unmatched or failed payment events, with the retry button), and the facts page (subscribers
  of announced facts that failed, with the retry button), and transaction monitoring (hold, clear, escalate flags).
- **support**: view users and their consents, closed accounts (the erasure audit), the webhook
  inbox ("my purchase did not earn": an unmatched card event is the usual answer) and the facts
  page; no changes; transaction monitoring: searching purchases and flags, holding a flag's rewards.
- **marketing**: view users (segments), everything in ``campaigns`` (offers, challenges) and in
  ``referrals`` (the programme's terms, the referral review queue), and everything in ``content``
  (the public site's pages, FAQ entries and banners at /staff/content/).
"""


def _role_permissions(patterns: tuple[tuple[str, str], ...], permissions: list[Permission]) -> list[Permission]:
    """The permissions matching any pattern and no ``!``-pattern (an exception to a wildcard)."""
    granted = [(app, codename) for app, codename in patterns if not codename.startswith("!")]
    withheld = [(app, codename[1:]) for app, codename in patterns if codename.startswith("!")]

    def matches(permission: Permission, rules: list[tuple[str, str]]) -> bool:
        return any(
            fnmatchcase(permission.content_type.app_label, app_label) and fnmatchcase(permission.codename, codename)
            for app_label, codename in rules
        )

    return [
        permission for permission in permissions if matches(permission, granted) and not matches(permission, withheld)
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
