"""The demo accounts per role: staff with the documented demo TOTP secret, merchant staff in the demo shop."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from accounts.demo import DEMO_PASSWORD, seed_demo_users
from accounts.demo_staff import DEMO_STAFF, demo_totp_code, seed_demo_staff

pytestmark = pytest.mark.django_db


def test_each_staff_role_has_a_demo_account_that_logs_in_with_the_demo_code(client, capsys):
    seed_demo_users()
    seed_demo_staff()
    seed_demo_staff()  # a second run changes nothing

    for email, _name, role in DEMO_STAFF:
        assert Authenticator.objects.filter(user__email=email, type="totp").count() == 1
        assert Group.objects.filter(name=role, user__email=email).exists()
    call_command("demo_totp")
    code = capsys.readouterr().out.strip()
    assert code == demo_totp_code() and len(code) == 6

    client.post(reverse("account_login"), {"login": "finance@demo.cashback.example", "password": DEMO_PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": demo_totp_code()})
    assert response.url == reverse("adminpanel:index")
