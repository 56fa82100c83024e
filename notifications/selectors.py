from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Consent
from accounts.selectors import consent_granted, consent_granted_user_ids
from notifications.kinds import KINDS, Channel, is_marketing, kind_defaults
from notifications.models import Notification, Preference, QuietHours

if TYPE_CHECKING:
    from accounts.models import User


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The person's inbox, newest first."""
    return Notification.objects.filter(user=user, in_inbox=True)


def unread_count(*, user: User) -> int:
    """One COUNT on the partial index ``notification_user_unread``."""
    return Notification.objects.filter(user=user, in_inbox=True, read_at__isnull=True).count()


def channels_for(*, user: User, kind: str) -> frozenset[str]:
    """The channels ``kind`` goes to for ``user``: the kind's defaults, then the person's choices.
    Marketing goes nowhere without the marketing consent in force."""
    if is_marketing(kind) and not consent_granted(user=user, kind=Consent.Kind.MARKETING):
        return frozenset()
    chosen = set(kind_defaults(kind))
    for channel, enabled in Preference.objects.filter(user=user, kind=kind).values_list("channel", "enabled"):
        if enabled:
            chosen.add(channel)
        else:
            chosen.discard(channel)
    return frozenset(chosen)


def users_with_channel(*, kind: str, channel: str, user_ids: list[int]) -> set[int]:
    """Of ``user_ids``, those for whom ``kind`` goes to ``channel`` (two or three queries, any number of people)."""
    on_by_default = channel in kind_defaults(kind)
    overrides = dict(
        Preference.objects.filter(kind=kind, channel=channel, user_id__in=user_ids).values_list("user_id", "enabled")
    )
    wanted = {user_id for user_id in user_ids if overrides.get(user_id, on_by_default)}
    if is_marketing(kind):
        wanted &= consent_granted_user_ids(kind=Consent.Kind.MARKETING, user_ids=list(wanted))
    return wanted


def preferences_of(*, user: User) -> dict[str, Any]:
    """Every kind and channel with the choice in force, quiet hours and the consents: the preferences page and API."""
    overrides = {
        (kind, channel): enabled
        for kind, channel, enabled in Preference.objects.filter(user=user).values_list("kind", "channel", "enabled")
    }
    kinds = []
    for kind, spec in KINDS.items():
        defaults = kind_defaults(kind)
        kinds.append(
            {
                "kind": kind,
                "label": str(spec.label),
                "group": spec.group,
                "channels": {
                    channel: overrides.get((kind, channel), channel in defaults) for channel in Channel.values
                },
            }
        )
    quiet = QuietHours.objects.filter(user=user).first()
    return {
        "kinds": kinds,
        "quiet_hours": {"start": quiet.start, "end": quiet.end} if quiet else None,
        "marketing_consent": consent_granted(user=user, kind=Consent.Kind.MARKETING),
        "location_consent": consent_granted(user=user, kind=Consent.Kind.LOCATION),
    }


def in_quiet_hours(*, start: Any, end: Any, at: datetime) -> datetime | None:
    """The end of the quiet window ``at`` falls in (local time), or None outside it."""
    local = timezone.localtime(at)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def quiet_hours_end(*, user: User, at: datetime) -> datetime | None:
    quiet = QuietHours.objects.filter(user=user).first()
    if quiet is None:
        return None
    return in_quiet_hours(start=quiet.start, end=quiet.end, at=at)


def kind_known(kind: str) -> bool:
    return kind in KINDS


def push_allowed_sql(*, user_id: int, kind: str, consent: str, at: datetime) -> tuple[str, list[Any]]:
    """An SQL condition, with its parameters, that holds when a ``kind`` push may go to the person now:
    ``consent`` in force, the push preference for ``kind`` on (or its default), ``at`` outside their
    quiet hours. ``push_gate`` and ``in_quiet_hours`` decide the same in Python.

    For geofencing's claim (``geofencing.services``): the gate and the once-a-day claim in one statement,
    so a report that pushes and one whose push is ruled out cost the same single round trip. PostgreSQL
    evaluates the uncorrelated subqueries once per statement. The tables and columns are this app's and
    ``accounts.Consent``'s, named from the models."""
    quote = connection.ops.quote_name
    consent_table, preference_table = quote(Consent._meta.db_table), quote(Preference._meta.db_table)
    quiet_table = quote(QuietHours._meta.db_table)
    start, end = quote("start"), quote("end")
    now = timezone.localtime(at).time()
    on_by_default = "TRUE" if Channel.PUSH in kind_defaults(kind) else "FALSE"
    sql = (
        f"COALESCE((SELECT c.granted FROM {consent_table} c WHERE c.user_id = %s AND c.kind = %s"  # noqa: S608 - names from the models; values are parameters
        " ORDER BY c.created_at DESC, c.id DESC LIMIT 1), FALSE)"
        f" AND COALESCE((SELECT p.enabled FROM {preference_table} p"
        f" WHERE p.user_id = %s AND p.kind = %s AND p.channel = %s), {on_by_default})"
        f" AND NOT EXISTS (SELECT 1 FROM {quiet_table} q WHERE q.user_id = %s AND CASE WHEN q.{start} < q.{end}"
        f" THEN q.{start} <= %s AND %s < q.{end} ELSE %s >= q.{start} OR %s < q.{end} END)"
    )
    return sql, [user_id, consent, user_id, kind, Channel.PUSH, user_id, now, now, now, now]


def push_gate(*, user: User, kind: str, consent: str) -> tuple[bool, bool, tuple[Any, Any] | None]:
    """In one query: whether ``consent`` is granted, whether ``kind`` goes to push, and the quiet hours.

    For geofencing's hot path (a report a minute from every phone): consent, preference and quiet
    hours are read together rather than in three round trips."""
    latest = Consent.objects.filter(user=OuterRef("pk"), kind=consent).order_by("-created_at", "-id")
    preference = Preference.objects.filter(user=OuterRef("pk"), kind=kind, channel=Channel.PUSH)
    quiet = QuietHours.objects.filter(user=OuterRef("pk"))
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            consented=Subquery(latest.values("granted")[:1]),
            push=Subquery(preference.values("enabled")[:1]),
            quiet_start=Subquery(quiet.values("start")[:1]),
            quiet_end=Subquery(quiet.values("end")[:1]),
        )
        .values("consented", "push", "quiet_start", "quiet_end")
        .first()
    )
    if row is None:
        return False, False, None
    push = row["push"] if row["push"] is not None else Channel.PUSH in kind_defaults(kind)
    quiet_hours = (row["quiet_start"], row["quiet_end"]) if row["quiet_start"] is not None else None
    return bool(row["consented"]), bool(push), quiet_hours
