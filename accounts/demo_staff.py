"""Demo staff for seed_demo: one clearly named account per staff role, each with two-factor set up
by one fixed, documented demo TOTP secret (``manage.py demo_totp`` prints the current code).

Demo only: the secret is public (README, "Logging in as each role"), like the demo password.
"""

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from accounts.services import ADMINISTRATOR, FINANCE, MARKETING, SUPPORT, staff_roles_sync

DEMO_TOTP_SECRET = "CASHBACKDEMOTOTP"  # base32; add it to an authenticator app, or run `manage.py demo_totp`
DEMO_STAFF = [
    ("support@demo.cashback.example", "Sam Support", SUPPORT),
    ("marketing@demo.cashback.example", "Mia Marketing", MARKETING),
    ("finance@demo.cashback.example", "Finn Finance", FINANCE),
    ("finance2@demo.cashback.example", "Frida Finance", FINANCE),  # the second approver of manual adjustments
    ("admin@demo.cashback.example", "Ada Admin", ADMINISTRATOR),  # created by accounts.demo (a superuser)
]


def demo_totp_code() -> str:
    """The demo secret's code now (what an authenticator app shows)."""
    counter = int(timezone.now().timestamp()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter))


def seed_demo_staff() -> list[str]:
    roles = {role for _email, _name, role in DEMO_STAFF}
    if Group.objects.filter(name__in=roles).count() < len(roles):
        staff_roles_sync()
    report = []
    for email, full_name, role in DEMO_STAFF:
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name, "is_staff": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
        report.append(f"{'created' if created else 'kept'} {role} {email} (two-factor: the demo TOTP secret)")
    return report
