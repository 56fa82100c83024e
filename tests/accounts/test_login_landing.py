"""Where each kind of person lands after logging in: staff (after two-factor) in the staff panel,
merchant staff in their portal, consumers in the wallet."""

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.urls import reverse

from tests.accounts.factories import PASSWORD, StaffUserFactory, UserFactory
from tests.merchants.factories import MembershipFactory

pytestmark = pytest.mark.django_db

TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # the one StaffUserFactory(mfa=True) sets up


def _current_code() -> str:
    counter = list(yield_hotp_counters_from_time())[len(list(yield_hotp_counters_from_time())) // 2]
    return format_hotp_value(hotp_value(TOTP_SECRET, counter))


def test_staff_land_in_the_staff_panel_after_the_two_factor_step(client):
    staff = StaffUserFactory(mfa=True)

    first = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert first.url == reverse("mfa_authenticate")
    second = client.post(reverse("mfa_authenticate"), {"code": _current_code()})

    assert second.status_code == 302 and second.url == reverse("adminpanel:index")
    assert client.get(second.url).status_code == 200


def test_merchant_staff_land_in_their_portal(client):
    member = MembershipFactory(role="owner")

    response = client.post(reverse("account_login"), {"login": member.user.email, "password": PASSWORD})

    assert response.url == reverse("merchants:portal")


def test_consumers_land_in_the_wallet(client):
    response = client.post(reverse("account_login"), {"login": UserFactory().email, "password": PASSWORD})

    assert response.url == reverse("wallet:home")


def test_a_next_page_still_wins(client):
    staff = UserFactory()

    response = client.post(
        reverse("account_login") + "?next=/wallet/cards/", {"login": staff.email, "password": PASSWORD}
    )

    assert response.url == "/wallet/cards/"
