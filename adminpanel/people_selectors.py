"""Reads of the staff panel's People pages: the person search and the audit log search."""

from contextlib import suppress
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import StaffAuditEntry, User
from accounts.validators import phone_number_normalize


def user_search(*, query: str) -> QuerySet[User]:
    """People matching ``query`` by name, e-mail, phone, a linked card's last four digits or their
    referral code; everyone (newest first) for an empty query. Erased accounts are left out."""
    people = User.objects.filter(erased_at__isnull=True).order_by("-date_joined", "-id")
    query = query.strip()
    if not query:
        return people
    match = Q(full_name__icontains=query) | Q(email__icontains=query) | Q(referral_code__code__iexact=query)
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) == 4 and len(query.replace(" ", "")) == 4:
        match |= Q(cards__last_four=digits)
    if len(digits) >= 5:
        match |= Q(phone__contains=digits)
        with suppress(ValidationError):  # not a phone number: the other criteria still apply
            match |= Q(phone=phone_number_normalize(query))
    return people.filter(match).distinct()


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def staff_audit_search(
    *,
    actor: str = "",
    action: str = "",
    target: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[StaffAuditEntry]:
    """Staff audit entries, newest first. ``actor``: the start of an e-mail or an id; ``action``: the
    start of an action name (``user.`` finds every action on people); ``target``: ``type:id``, a
    type (``accounts.user``) or an id; dates are inclusive calendar days."""
    entries = StaffAuditEntry.objects.select_related("actor").order_by("-created_at", "-id")
    actor = actor.strip()
    if actor:
        entries = (
            entries.filter(actor_id=int(actor)) if actor.isdigit() else entries.filter(actor__email__istartswith=actor)
        )
    if action.strip():
        entries = entries.filter(action__startswith=action.strip())
    target = target.strip()
    if target:
        if ":" in target:
            target_type, target_id = target.split(":", 1)
            entries = entries.filter(target_type=target_type.strip().lower(), target_id=target_id.strip())
        elif target.isdigit():
            entries = entries.filter(target_id=target)
        else:
            entries = entries.filter(target_type=target.lower())
    if date_from:
        entries = entries.filter(created_at__gte=_start_of_day(date_from))
    if date_to:
        entries = entries.filter(created_at__lt=_start_of_day(date_to + timedelta(days=1)))
    return entries
