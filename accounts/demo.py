"""Demo users and cards for seed_demo (registered in AccountsConfig.ready()).

The demo consumer and the demo administrator, and two linked cards for the consumer, so
simulate_purchase works at once.

Linked through the fake card network and ``card_link`` like any card (the token is derived from the
number, so a second run finds the same token and changes nothing). Skipped when the real card
network is configured: its tokens come only from its hosted enrolment.
"""

from django.contrib.auth import get_user_model

from accounts.models import Card
from accounts.services import card_link
from cashback.providers.card_network import fake_card_network_enabled, get_card_network

DEMO_PASSWORD = "demo-password-2026"
DEMO_CONSUMER_EMAIL = "consumer@demo.cashback.example"
DEMO_USERS = [
    {"email": DEMO_CONSUMER_EMAIL, "full_name": "Dina Demo", "is_staff": False, "is_superuser": False},
    {"email": "admin@demo.cashback.example", "full_name": "Ada Admin", "is_staff": True, "is_superuser": True},
]
# (test number, expiry month, expiry year)
DEMO_CARDS = (("4242424242424242", 12, 2034), ("5555555555554444", 7, 2033))


def seed_demo_users() -> list[str]:
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
    return report


def seed_demo_cards() -> list[str]:
    if not fake_card_network_enabled():
        return ["skipped demo cards (the card network is not the fake one)"]
    user = get_user_model().objects.filter(email=DEMO_CONSUMER_EMAIL).first()
    if user is None:
        return []
    report = []
    network = get_card_network()
    for number, exp_month, exp_year in DEMO_CARDS:
        token = network.enrol(number, exp_month, exp_year).token
        existed = Card.objects.filter(network_token=token, user=user, status=Card.Status.ACTIVE).exists()
        card = card_link(user=user, token=token)
        report.append(f"{'kept' if existed else 'linked'} card {card} for {user.email}")
    return report
