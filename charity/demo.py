"""Demo charities for the embedded setup: two partner charities with impact units, and some giving by the
demo consumer when their wallet has money to give. Idempotent: looks up before it creates; money moves
only through the services, under fixed idempotency keys, so seeding twice changes nothing.

Called by ``seed_demo`` (``cashback.demo.seed_demo_data``): ``seed_demo_charities`` before the campaigns
demo (a charity-reward offer may name a demo charity), ``seed_demo_giving`` after it (the demo wallet
then has cashback).
"""

from typing import Any

from django.contrib.auth import get_user_model

from charity import selectors, services
from charity.models import Charity
from wallet.models import JournalTransaction

DEMO_CONSUMER_EMAIL = "consumer@demo.cashback.example"
DEMO_CHARITIES: list[dict[str, Any]] = [
    {
        "values": {
            "name": "Skolebenken",
            "slug": "skolebenken",
            "country": "NO",
            "organisation_number": "912345602",
            "cause": "School furniture for classrooms in East Africa",
            "description": (
                "Skolebenken builds sturdy desks with local carpenters and delivers them to schools where "
                "children sit on the floor. One desk seats two pupils for ten years."
            ),
            "logo_path": "charity/logos/skolebenken.svg",
            "website": "https://skolebenken.example",
            "impact_unit": "school desk",
            "impact_unit_plural": "school desks",
            "stripe_account_id": "acct_demoSkolebenken",
        },
        "costs": {"NOK": 80_000, "SEK": 80_000, "DKK": 56_000, "EUR": 7_000},
    },
    {
        "values": {
            "name": "Lesehesten",
            "slug": "lesehesten",
            "country": "NO",
            "organisation_number": "987654309",
            "cause": "Books for school libraries in the Nordics",
            "description": (
                "Lesehesten buys new children's books for school libraries that have none to spare, chosen "
                "with the teachers. Every book is read by dozens of children."
            ),
            "logo_path": "charity/logos/lesehesten.svg",
            "website": "https://lesehesten.example",
            "impact_unit": "book",
            "impact_unit_plural": "books",
            "stripe_account_id": "acct_demoLesehesten",
        },
        "costs": {"NOK": 12_000, "SEK": 12_000, "EUR": 1_100},
    },
]


def seed_demo_charities() -> list[str]:
    report = []
    charities = {}
    for spec in DEMO_CHARITIES:
        charity = Charity.objects.filter(slug=spec["values"]["slug"]).first()
        if charity is None:
            charity = services.charity_create(**spec["values"], impact_costs=spec["costs"])
            report.append(f"created charity {charity.name}")
        else:
            report.append(f"kept charity {charity.name}")
        charities[charity.slug] = charity
    return report


def seed_demo_giving() -> list[str]:
    report: list[str] = []
    charities = {charity.slug: charity for charity in Charity.objects.filter(slug__in=["skolebenken", "lesehesten"])}
    consumer = get_user_model().objects.filter(email=DEMO_CONSUMER_EMAIL).first()
    if consumer is None or len(charities) < 2:
        return report
    if selectors.auto_donate_get(user=consumer) is None:
        services.auto_donate_set(user=consumer, charity_id=charities["skolebenken"].pk, share_percent=10)
        report.append("set the demo consumer's auto-donate: 10% to Skolebenken")
    # A donation if the demo wallet has cashback available (from the campaigns demo); the fixed key
    # makes a second seed find the first donation.
    available = selectors.consumer_available_minor(user=consumer, currency="NOK")
    if available >= 5_000 or selectors.donation_entries(user=consumer).exists():
        key = "demo-donation-1"
        journal_key = services.donation_journal_key(user=consumer, idempotency_key=key)
        if not JournalTransaction.objects.filter(idempotency_key=journal_key).exists():
            services.donation_make(
                user=consumer,
                charity_id=charities["lesehesten"].pk,
                amount_minor=min(available, 36_000) // 100 * 100,
                currency="NOK",
                idempotency_key=key,
            )
            report.append("the demo consumer donated to Lesehesten")
    return report
