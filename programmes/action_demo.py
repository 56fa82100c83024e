"""Demo data of rewards for actions (seed 003): two of Nusantara Brands' action rules (a survey gives
150 points, at most once a week; a completed profile NOK 50 once) and an actions log for the catalogue's
demo member (``points-member@``): a survey that earned points, a second one the same week over the
limit, and a social share no rule rewards. Idempotent: rules are looked up by name, reports by their
event ids."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from programmes.action_models import ActionReport, ActionRule
from programmes.actions import action_report, action_rule_save
from programmes.catalogue_demo import MEMBER_EMAIL
from programmes.models import BrandOwner, FieldRole

RULES = (
    ("Survey thank-you", "survey_completed", "points", 150, 1, "week"),
    ("Complete your profile", "profile_completed", "cash", 5_000, 1, "total"),
)
# (event id, action, description, hours ago)
REPORTS = (
    ("demo-survey-1", "survey_completed", "Lumi shampoo survey", 30),
    ("demo-survey-2", "survey_completed", "Krisp taste test", 2),
    ("demo-share-1", "social_share", "Shared the Lumi offer", 1),
)


def seed_demo_actions(*, brand_owner: BrandOwner, marketing: FieldRole) -> list[str]:
    report: list[str] = []
    start = timezone.now() - datetime.timedelta(days=60)
    for name, action, value_kind, value, limit_count, limit_period in RULES:
        if not ActionRule.objects.filter(brand_owner=brand_owner, name=name).exists():
            action_rule_save(
                role=marketing,
                name=name,
                action=action,
                value_kind=value_kind,
                value=value,
                limit_count=limit_count,
                limit_period=limit_period,
                active_from=start,
            )
            report.append(f"action rule {name}")
    person = get_user_model().objects.filter(email=MEMBER_EMAIL).first()
    if person is None:
        return report
    now = timezone.now()
    origin = f"partner:{brand_owner.merchant_id}"
    for event_id, action, description, hours_ago in REPORTS:
        if ActionReport.objects.filter(origin=origin, source_key=event_id).exists():
            continue
        # The second survey falls in the same week as the first unless a Monday lies between them: the
        # log then shows "limit reached" (else it earned too).
        action_report(
            user=person,
            action=action,
            source=ActionReport.Source.PARTNER,
            origin=origin,
            source_key=event_id,
            occurred_at=now - datetime.timedelta(hours=hours_ago),
            brand_owner_ids=[brand_owner.pk],
            merchant=brand_owner.merchant,
            description=description,
        )
    if REPORTS:
        report.append(f"actions log of {MEMBER_EMAIL}: /wallet/actions/")
    return report
