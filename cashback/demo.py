"""Demo data for the embedded setup. Every step looks up before it creates, so seeding twice changes nothing."""

from django.contrib.auth import get_user_model

from accounts.demo import seed_demo_cards
from campaigns.demo import seed_demo_campaigns
from charity.demo import seed_demo_charities, seed_demo_giving
from merchants.demo import seed_demo_merchants

DEMO_PASSWORD = "demo-password-2026"

DEMO_USERS = [
    {"email": "consumer@demo.cashback.example", "full_name": "Dina Demo", "is_staff": False, "is_superuser": False},
    {"email": "admin@demo.cashback.example", "full_name": "Ada Admin", "is_staff": True, "is_superuser": True},
]


def seed_demo_data() -> list[str]:
    User = get_user_model()
    report = []
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            email=spec["email"],
            defaults={key: value for key, value in spec.items() if key != "email"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        report.append(f"{'created' if created else 'kept'} user {user.email} (password: {DEMO_PASSWORD})")
    report.extend(seed_demo_cards())
    report.extend(seed_demo_merchants())
    report.extend(seed_demo_charities())
    report.extend(seed_demo_campaigns())
    report.extend(seed_demo_giving())
    return report
