"""Actions the platform reports itself: a completed profile (fact from accounts), a referral bonus paid to
the referrer (fact from referrals), birthdays (the daily task) — to the rules of the brand owners the
person is a member of."""

import datetime

import pytest
from django.utils import timezone

from accounts import services as account_services
from cashback.events import announce
from programmes import action_sources
from programmes.models import ActionReport
from programmes.tasks import action_birthdays_report
from tests.accounts.factories import UserFactory
from tests.programmes.action_factories import action_rule
from tests.programmes.factories import customer, programme_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return programme_world()


def _member(world):
    """A business customer's person: a member of the brand owner."""
    return customer(world).user


def test_completing_the_profile_earns_once(world, django_capture_on_commit_callbacks):
    action_rule(world.marketing_admin, action="profile_completed", limit_period="total", value=5_000)
    member = _member(world)

    with django_capture_on_commit_callbacks(execute=True):
        account_services.profile_update(user=member, full_name="Kari Nordmann", gender="female", city="Oslo")
    assert not ActionReport.objects.exists()  # no birthday yet: not complete
    with django_capture_on_commit_callbacks(execute=True):
        account_services.profile_update(user=member, birth_date=datetime.date(1990, 5, 17))
    with django_capture_on_commit_callbacks(execute=True):
        account_services.profile_update(user=member, city="")
        account_services.profile_update(user=member, city="Bergen")

    report = ActionReport.objects.get()
    assert (report.user, report.action, report.source) == (member, "profile_completed", "platform")
    assert report.outcomes.get().result == "awarded"
    member.refresh_from_db()
    assert member.birth_year == 1990


def test_a_referrers_bonus_is_a_referral_the_friends_is_not(world, django_capture_on_commit_callbacks):
    action_rule(world.marketing_admin, action="referral", limit_count=5, limit_period="month")
    referrer, friend = _member(world), _member(world)

    with django_capture_on_commit_callbacks(execute=True):
        for user, key in ((referrer, "referral:7:referrer"), (friend, "referral:7:friend")):
            announce(
                "referral_bonus_paid", user_id=user.pk, key=key, journal_id=1, amount_minor=100, currency="NOK", memo=""
            )

    assert [(r.user, r.action) for r in ActionReport.objects.all()] == [(referrer, "referral")]


def test_a_person_who_is_no_member_gets_no_rule(world, django_capture_on_commit_callbacks):
    action_rule(world.marketing_admin, action="profile_completed")
    stranger = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        account_services.profile_update(
            user=stranger, full_name="A B", gender="male", city="Oslo", birth_date=datetime.date(1980, 1, 2)
        )
    assert ActionReport.objects.get().outcomes.get().result == "no_rule"


def test_birthdays_are_reported_once_a_year(world):
    action_rule(world.marketing_admin, action="birthday", limit_period="total", limit_count=10, value=10_000)
    today = timezone.localdate()
    member = _member(world)
    account_services.profile_update(user=member, birth_date=today.replace(year=1985))
    other = _member(world)
    account_services.profile_update(user=other, birth_date=(today + datetime.timedelta(days=1)).replace(year=1985))

    assert action_birthdays_report() == 1
    assert action_birthdays_report() == 0
    report = ActionReport.objects.get()
    assert (report.user, report.source_key) == (member, f"birthday:{member.pk}:{today.year}")
    assert report.outcomes.get().result == "awarded"


def test_the_29th_of_february_is_celebrated_on_the_28th_in_other_years(world):
    action_rule(world.marketing_admin, action="birthday", limit_period="total")
    member = _member(world)
    account_services.profile_update(user=member, birth_date=datetime.date(2000, 2, 29))

    assert action_sources.birthdays_report(today=datetime.date(2027, 2, 28)) == 1
    assert action_sources.birthdays_report(today=datetime.date(2028, 2, 28)) == 0


def test_no_birthday_rule_no_birthday_reports(world):
    member = _member(world)
    account_services.profile_update(user=member, birth_date=timezone.localdate().replace(year=1985))
    assert action_birthdays_report() == 0
    assert not ActionReport.objects.exists()
