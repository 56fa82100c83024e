"""Demo merchant for the embedded setup: "Fjord Coffee", approved, owned by the demo consumer, with two
shops in Oslo. Idempotent: looks up before it creates, and goes through the services like a real sign-up."""

from typing import Any

from django.contrib.auth import get_user_model

from merchants import services
from merchants.models import Merchant

DEMO_OWNER_EMAIL = "consumer@demo.cashback.example"
DEMO_REVIEWER_EMAIL = "admin@demo.cashback.example"
DEMO_ORG_NUMBER = "923609016"
WEEKDAY_HOURS = {"open": "07:30", "close": "18:00"}
DEMO_LOCATIONS: list[dict[str, Any]] = [
    {
        "name": "Fjord Coffee Aker Brygge",
        "street": "Stranden 1",
        "postcode": "0250",
        "city": "Oslo",
        "network_store_id": "FJORD-001",
        "opening_hours": {
            **{day: WEEKDAY_HOURS for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": {"open": "09:00", "close": "17:00"},
            "sun": {"closed": True},
        },
    },
    {
        "name": "Fjord Coffee Grünerløkka",
        "street": "Thorvald Meyers gate 40",
        "postcode": "0557",
        "city": "Oslo",
        "network_store_id": "FJORD-002",
        "opening_hours": {day: WEEKDAY_HOURS for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    },
]
DEMO_NETWORK_MERCHANT_ID = "4445550001"


def seed_demo_merchants() -> list[str]:
    User = get_user_model()
    owner = User.objects.filter(email=DEMO_OWNER_EMAIL).first()
    if owner is None:
        return ["skipped demo merchant: no demo consumer"]
    reviewer = User.objects.filter(email=DEMO_REVIEWER_EMAIL).first()
    report = []
    merchant = Merchant.objects.filter(country="NO", organisation_number=DEMO_ORG_NUMBER).first()
    if merchant is None:
        merchant = services.merchant_apply(
            applicant=owner,
            legal_name="Fjord Coffee AS",
            display_name="Fjord Coffee",
            organisation_number=DEMO_ORG_NUMBER,
            country="NO",
            category_code="5814",
            contact_name="Dina Demo",
            contact_email=DEMO_OWNER_EMAIL,
            contact_phone="+4722334455",
        )
        report.append("created merchant Fjord Coffee")
    else:
        report.append("kept merchant Fjord Coffee")
    if merchant.status == Merchant.Status.PENDING_REVIEW:
        services.merchant_approve(merchant=merchant, actor=reviewer)
        report.append("approved Fjord Coffee")
    for spec in DEMO_LOCATIONS:
        if merchant.locations.filter(network_store_id=spec["network_store_id"]).exists():
            continue
        services.location_create(
            merchant=merchant,
            actor=owner,
            country="NO",
            time_zone="Europe/Oslo",
            network_merchant_id=DEMO_NETWORK_MERCHANT_ID,
            **spec,
        )
        report.append(f"created shop {spec['name']}")
    return report
