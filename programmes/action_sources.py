"""Actions the platform itself sees, reported to the action rules (``programmes.actions``):

- a birthday: a daily beat task (``tasks.action_birthdays_report``) reports the people whose birthday it
  is (29 February is celebrated on the 28th in other years), once per person and year;
- a profile completed: the ``profile_completed`` fact (accounts), once per person;
- a referral: the ``referral_bonus_paid`` fact (referrals) of a referrer's bonus — a friend's first
  purchase, or a business that joined — once per bonus key.

Each is judged by the rules of the brand owners the person is a member of (``member_brand_owner_ids``).
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from programmes.action_models import ActionKind, ActionReport, ActionRule
from programmes.actions import action_report, member_brand_owner_ids

PLATFORM = ActionReport.Source.PLATFORM


def _report(*, user_id: int, action: str, source_key: str, at: datetime.datetime | None = None) -> bool:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    result = action_report(
        user=user,
        action=action,
        source=PLATFORM,
        origin=PLATFORM,
        source_key=source_key,
        occurred_at=at or timezone.now(),
        brand_owner_ids=member_brand_owner_ids(user_id=user_id),
    )
    return result.created


def profile_completed_report(*, user_id: int) -> None:
    """The ``profile_completed`` subscriber."""
    _report(user_id=user_id, action=ActionKind.PROFILE_COMPLETED, source_key=f"profile_completed:{user_id}")


def referral_bonus_report(
    *, user_id: int, key: str, journal_id: int, amount_minor: int, currency: str, memo: str
) -> None:
    """The ``referral_bonus_paid`` subscriber: a referrer's bonus is a referral; the friend's welcome
    bonus is not (the friend referred nobody)."""
    if key.endswith(":friend"):
        return
    _report(user_id=user_id, action=ActionKind.REFERRAL, source_key=f"referral:{key}")


def birthdays_report(*, today: datetime.date | None = None) -> int:
    """Report today's birthdays; returns how many were new. Does nothing while no brand owner has an
    active birthday rule (no log of birthdays nobody rewards)."""
    today = today or timezone.localdate()
    if not ActionRule.objects.filter(action=ActionKind.BIRTHDAY, paused=False).exists():
        return 0
    born_today = Q(birth_date__month=today.month, birth_date__day=today.day)
    if today.month == 2 and today.day == 28 and not _leap(today.year):
        born_today |= Q(birth_date__month=2, birth_date__day=29)
    users = get_user_model().objects.filter(born_today, is_active=True).values_list("pk", flat=True)
    reported = 0
    for user_id in users.iterator():
        reported += _report(user_id=user_id, action=ActionKind.BIRTHDAY, source_key=f"birthday:{user_id}:{today.year}")
    return reported


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
