"""Demo shops for the public map and list: partner shops in six Norwegian cities, with live offers.

Enough that /shops/ is worth looking at: about thirty approved merchants in Oslo, Bergen, Trondheim,
Stavanger, Tromsø and Kristiansand, with real-looking addresses and coordinates (a coffee chain with
eight shops in central Oslo shows the map's clusters), a mix of categories, percent, fixed and charity
offers, opening hours and challenges. Everything goes through the services like a real sign-up,
location and offer, and is looked up before it is made, so seeding twice changes nothing.

Called by ``seed_demo`` after the charities and the demo merchant's offers (``cashback.demo``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from campaigns import services
from campaigns.models import Offer, Tier
from cashback.organisation_numbers import is_valid_norwegian
from charity.models import Charity
from merchants import services as merchant_services
from merchants.models import Merchant

DEMO_SHOP_OWNER_EMAIL = "shops@demo.cashback.example"
DEMO_REVIEWER_EMAIL = "admin@demo.cashback.example"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
Hours = dict[str, dict[str, Any]]


def _hours(weekday: tuple[str, str], saturday: tuple[str, str], sunday: tuple[str, str] | None) -> Hours:
    hours: Hours = {day: {"open": weekday[0], "close": weekday[1]} for day in WEEKDAYS}
    hours["sat"] = {"open": saturday[0], "close": saturday[1]}
    hours["sun"] = {"open": sunday[0], "close": sunday[1]} if sunday else {"closed": True}
    return hours


CAFE_HOURS = _hours(("07:00", "18:00"), ("09:00", "17:00"), ("10:00", "16:00"))
SHOP_HOURS = _hours(("10:00", "20:00"), ("10:00", "18:00"), None)
GROCERY_HOURS = _hours(("07:00", "23:00"), ("07:00", "23:00"), ("09:00", "21:00"))

# (street, postcode, city, latitude, longitude)
Place = tuple[str, str, str, str, str]
MORGENKAFFE_OSLO: list[Place] = [
    ("Karl Johans gate 25", "0159", "Oslo", "59.913600", "10.740500"),
    ("Torggata 5", "0181", "Oslo", "59.914800", "10.750100"),
    ("Bogstadveien 27", "0355", "Oslo", "59.926300", "10.722800"),
    ("Markveien 58", "0550", "Oslo", "59.925100", "10.757200"),
    ("Jernbanetorget 1", "0154", "Oslo", "59.911400", "10.750800"),
    ("Bygdøy allé 5", "0257", "Oslo", "59.915900", "10.719600"),
    ("Stortingsgata 12", "0161", "Oslo", "59.913800", "10.735900"),
    ("Storgata 1", "0155", "Oslo", "59.912900", "10.751600"),
]

# Each shop: display name, MCC, opening hours, places, offers. Offer specs are the offer's values.
DEMO_SHOPS: list[dict[str, Any]] = [
    {
        "name": "Morgenkaffe",
        "mcc": "5814",
        "hours": CAFE_HOURS,
        "places": MORGENKAFFE_OSLO,
        "offers": [
            {"title": "Morning coffee", "percent": "15", "max": 3_000, "days": [0, 1, 2, 3, 4], "hours": (7, 10)},
            {"title": "10 % on everything", "percent": "10", "max": 10_000, "challenge": ("Twelve cups", 12, 6_000)},
        ],
    },
    {
        "name": "Bakeriet Majorstuen",
        "mcc": "5462",
        "hours": CAFE_HOURS,
        "places": [("Bogstadveien 52", "0366", "Oslo", "59.928600", "10.716700")],
        "offers": [{"title": "Bread and buns", "percent": "8", "max": 5_000}],
    },
    {
        "name": "Grønn Kurv",
        "mcc": "5411",
        "hours": GROCERY_HOURS,
        "places": [
            ("Markveien 35", "0554", "Oslo", "59.923500", "10.758000"),
            ("Thereses gate 12", "0168", "Oslo", "59.927900", "10.735300"),
        ],
        "offers": [
            {"title": "Weekly shop", "percent": "3", "min": 50_000, "max": 20_000},
            {"title": "Groceries for school desks", "charity": "skolebenken", "percent": "2"},
        ],
    },
    {
        "name": "Nordlys Sport",
        "mcc": "5941",
        "hours": SHOP_HOURS,
        "places": [
            ("Karl Johans gate 14", "0154", "Oslo", "59.912300", "10.743400"),
            ("Strandgaten 15", "5013", "Bergen", "60.394600", "5.321300"),
            ("Nordre gate 10", "7011", "Trondheim", "63.432700", "10.395800"),
        ],
        "offers": [
            {"title": "200 kr off your first visit", "fixed": 20_000, "min": 100_000, "audience": "new_customers"},
            {
                "title": "7 % back on gear",
                "percent": "7",
                "max": 50_000,
                "challenge": ("Spend 5 000 kr", 500_000, 25_000),
            },
        ],
    },
    {
        "name": "Bokhuset",
        "mcc": "5942",
        "hours": SHOP_HOURS,
        "places": [
            ("Universitetsgata 20", "0162", "Oslo", "59.915600", "10.736800"),
            ("Olav Kyrres gate 21", "5015", "Bergen", "60.391300", "5.324300"),
        ],
        "offers": [
            {"title": "Books for books", "charity": "lesehesten", "percent": "5"},
            {"title": "10 % back on books", "percent": "10", "max": 10_000},
        ],
    },
    {
        "name": "Sykkelverkstedet",
        "mcc": "5940",
        "hours": SHOP_HOURS,
        "places": [("Thorvald Meyers gate 70", "0552", "Oslo", "59.926200", "10.759000")],
        "offers": [{"title": "Service season", "percent": "12", "max": 30_000, "days": [5, 6]}],
    },
    {
        "name": "Hjem & Hage",
        "mcc": "5712",
        "hours": SHOP_HOURS,
        "places": [
            ("Storgata 30", "0184", "Oslo", "59.915300", "10.753600"),
            ("Madlaveien 200", "4042", "Stavanger", "58.950000", "5.690000"),
        ],
        "offers": [{"title": "300 kr back on 3 000 kr", "fixed": 30_000, "min": 300_000, "cap": 2}],
    },
    {
        "name": "Vita Natur",
        "mcc": "5912",
        "hours": SHOP_HOURS,
        "places": [("Torggata 12", "0181", "Oslo", "59.915200", "10.749700")],
        "offers": [{"title": "Wellbeing week", "percent": "6", "max": 6_000}],
    },
    {
        "name": "Pizzeria Napoli",
        "mcc": "5812",
        "hours": {day: {"open": "14:00", "close": "23:00"} for day in (*WEEKDAYS, "sat", "sun")},
        "places": [("Youngstorget 2", "0181", "Oslo", "59.914900", "10.749000")],
        "offers": [
            {"title": "Late pizza", "percent": "20", "max": 8_000, "hours": (21, 23), "stackable": True},
            {"title": "10 % back", "percent": "10", "max": 5_000},
        ],
    },
    {
        "name": "Teknikk-Torget",
        "mcc": "5732",
        "hours": SHOP_HOURS,
        "places": [("Vitaminveien 7", "0485", "Oslo", "59.946500", "10.777500")],
        "offers": [{"title": "4 % on electronics", "percent": "4", "max": 100_000, "budget": 5_000_000}],
    },
    {
        "name": "Bryggen Kaffebar",
        "mcc": "5814",
        "hours": CAFE_HOURS,
        "places": [("Bryggen 15", "5003", "Bergen", "60.397500", "5.323300")],
        "offers": [
            {"title": "Coffee by the wharf", "percent": "12", "max": 3_000, "challenge": ("Ten visits", 10, 5_000)}
        ],
    },
    {
        "name": "Fisketorget Deli",
        "mcc": "5499",
        "hours": GROCERY_HOURS,
        "places": [("Torget 5", "5014", "Bergen", "60.394800", "5.325500")],
        "offers": [{"title": "Fish on Fridays", "percent": "10", "max": 10_000, "days": [4]}],
    },
    {
        "name": "Fjellsko Bergen",
        "mcc": "5661",
        "hours": SHOP_HOURS,
        "places": [("Torgallmenningen 8", "5014", "Bergen", "60.392600", "5.324200")],
        "offers": [{"title": "100 kr back on boots", "fixed": 10_000, "min": 80_000}],
    },
    {
        "name": "Regnjakken",
        "mcc": "5651",
        "hours": SHOP_HOURS,
        "places": [
            ("Marken 14", "5017", "Bergen", "60.390600", "5.330600"),
            ("Kirkegata 21", "0153", "Oslo", "59.910900", "10.744900"),
        ],
        "offers": [{"title": "Rain or shine", "percent": "8", "max": 20_000, "audience": "returning_customers"}],
    },
    {
        "name": "Nordnes Bakeri",
        "mcc": "5462",
        "hours": CAFE_HOURS,
        "places": [("Haugeveien 6", "5005", "Bergen", "60.397300", "5.311800")],
        "offers": [{"title": "Cinnamon buns for desks", "charity": "skolebenken", "percent": "10"}],
    },
    {
        "name": "Bakklandet Kafé",
        "mcc": "5814",
        "hours": CAFE_HOURS,
        "places": [("Øvre Bakklandet 33", "7013", "Trondheim", "63.428000", "10.402000")],
        "offers": [{"title": "Waffles and coffee", "percent": "10", "max": 4_000}],
    },
    {
        "name": "Nidaros Bokhandel",
        "mcc": "5942",
        "hours": SHOP_HOURS,
        "places": [("Kongens gate 12", "7011", "Trondheim", "63.430800", "10.395100")],
        "offers": [{"title": "A book for a book", "charity": "lesehesten", "percent": "4", "fixed": 500}],
    },
    {
        "name": "Solsiden Matmarked",
        "mcc": "5411",
        "hours": GROCERY_HOURS,
        "places": [("Beddingen 10", "7042", "Trondheim", "63.434600", "10.410600")],
        "offers": [
            {
                "title": "3 % on groceries",
                "percent": "3",
                "max": 15_000,
                "challenge": ("Spend 3 000 kr", 300_000, 10_000),
            }
        ],
    },
    {
        "name": "Trøndersport",
        "mcc": "5941",
        "hours": SHOP_HOURS,
        "places": [("Olav Tryggvasons gate 24", "7011", "Trondheim", "63.433500", "10.399000")],
        "offers": [{"title": "150 kr welcome", "fixed": 15_000, "min": 70_000, "audience": "new_customers", "cap": 1}],
    },
    {
        "name": "Gamle Stavanger Kaffe",
        "mcc": "5814",
        "hours": CAFE_HOURS,
        "places": [("Øvre Strandgate 40", "4005", "Stavanger", "58.972200", "5.727000")],
        "offers": [{"title": "Harbour coffee", "percent": "12", "max": 3_000}],
    },
    {
        "name": "Vågen Fisk & Deli",
        "mcc": "5499",
        "hours": GROCERY_HOURS,
        "places": [("Skagenkaien 12", "4006", "Stavanger", "58.971200", "5.731000")],
        "offers": [{"title": "Seafood weekend", "percent": "9", "max": 9_000, "days": [4, 5, 6]}],
    },
    {
        "name": "Oljebyen Elektro",
        "mcc": "5732",
        "hours": SHOP_HOURS,
        "places": [("Klubbgata 5", "4013", "Stavanger", "58.969000", "5.734800")],
        "offers": [{"title": "500 kr back on 5 000 kr", "fixed": 50_000, "min": 500_000, "budget": 2_500_000}],
    },
    {
        "name": "Ishavskafeen",
        "mcc": "5814",
        "hours": CAFE_HOURS,
        "places": [("Storgata 62", "9008", "Tromsø", "69.648400", "18.956000")],
        "offers": [{"title": "Polar night coffee", "percent": "15", "max": 3_000, "hours": (7, 11)}],
    },
    {
        "name": "Polarsport",
        "mcc": "5941",
        "hours": SHOP_HOURS,
        "places": [("Storgata 90", "9008", "Tromsø", "69.651000", "18.953500")],
        "offers": [{"title": "Ski season", "percent": "8", "max": 40_000, "challenge": ("Three visits", 3, 10_000)}],
    },
    {
        "name": "Nordlysbakeriet",
        "mcc": "5462",
        "hours": CAFE_HOURS,
        "places": [("Sjøgata 25", "9008", "Tromsø", "69.647800", "18.959500")],
        "offers": [{"title": "Bread for books", "charity": "lesehesten", "percent": "6"}],
    },
    {
        "name": "Markens Mote",
        "mcc": "5651",
        "hours": SHOP_HOURS,
        "places": [("Markens gate 20", "4611", "Kristiansand", "58.146000", "7.995000")],
        "offers": [{"title": "Summer style", "percent": "10", "max": 25_000}],
    },
    {
        "name": "Fiskebrygga Kafé",
        "mcc": "5814",
        "hours": CAFE_HOURS,
        "places": [("Gravane 6", "4610", "Kristiansand", "58.142000", "7.999000")],
        "offers": [{"title": "Lunch by the water", "percent": "10", "max": 5_000, "hours": (11, 14)}],
    },
    {
        "name": "Hagesenteret Sør",
        "mcc": "5261",
        "hours": SHOP_HOURS,
        "places": [("Barstølveien 30", "4636", "Kristiansand", "58.163000", "8.074000")],
        "offers": [{"title": "Spring planting", "percent": "6", "max": 15_000, "tier": True}],
    },
]


def _org_number(n: int) -> str:
    """The n-th valid Norwegian organisation number from 960 000 000 on (a number is valid one time in ten)."""
    candidate = 960_000_000 + n * 1_000
    while not is_valid_norwegian(str(candidate)):
        candidate += 1
    return str(candidate)


def _owner() -> Any:
    User = get_user_model()
    owner, created = User.objects.get_or_create(email=DEMO_SHOP_OWNER_EMAIL, defaults={"full_name": "Sigrid Shops"})
    if created:
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    return owner


def _merchant(n: int, spec: dict[str, Any], owner: Any, reviewer: Any) -> Merchant:
    number = _org_number(n)
    merchant = Merchant.objects.filter(country="NO", organisation_number=number).first()
    if merchant is None:
        merchant = merchant_services.merchant_apply(
            applicant=owner,
            legal_name=f"{spec['name']} AS",
            display_name=spec["name"],
            organisation_number=number,
            country="NO",
            category_code=spec["mcc"],
            contact_name="Sigrid Shops",
            contact_email=DEMO_SHOP_OWNER_EMAIL,
        )
        merchant_services.merchant_approve(merchant=merchant, actor=reviewer)
        for street, postcode, city, latitude, longitude in spec["places"]:
            merchant_services.location_create(
                merchant=merchant,
                actor=owner,
                name=f"{spec['name']} {street.rsplit(' ', 1)[0]}",
                street=street,
                postcode=postcode,
                city=city,
                country="NO",
                opening_hours=spec["hours"],
                latitude=Decimal(latitude),
                longitude=Decimal(longitude),
            )
    return merchant


def _offer_values(spec: dict[str, Any], merchant: Merchant, charities: dict[str, int], tier: Any) -> dict[str, Any]:
    now = timezone.now()
    values: dict[str, Any] = {
        "title": spec["title"],
        "description": "A demo offer.",
        "reward_type": "percent",
        "percent": Decimal(spec.get("percent", "0")),
        "currency": merchant.currency,
        "starts_at": now - timedelta(days=7),
        "ends_at": now + timedelta(days=365),
        "return_period_days": 14,
        "stackable": spec.get("stackable", False),
        "min_spend_minor": spec.get("min", 0),
        "max_reward_per_purchase_minor": spec.get("max"),
        "max_rewards_per_customer": spec.get("cap"),
        "budget_total_minor": spec.get("budget"),
        "days_of_week": spec.get("days", []),
        "audience": spec.get("audience", "everyone"),
    }
    if "hours" in spec:
        values["hour_from"], values["hour_to"] = spec["hours"]
    if "fixed" in spec:
        values["reward_type"] = "fixed"
        values["fixed_amount_minor"] = spec["fixed"]
    if "charity" in spec:
        values["reward_type"] = "charity"
        values["charity_ref"] = str(charities[spec["charity"]])
    if spec.get("tier") and tier is not None:
        values["audience"] = "tier"
        values["min_tier"] = tier
    return values


def seed_demo_shops() -> list[str]:
    reviewer = get_user_model().objects.filter(email=DEMO_REVIEWER_EMAIL).first()
    if reviewer is None:
        return ["no demo administrator: skipped the demo shops"]
    owner = _owner()
    charities = dict(Charity.objects.filter(slug__in=["skolebenken", "lesehesten"]).values_list("slug", "pk"))
    if len(charities) < 2:
        return ["no demo charities: skipped the demo shops"]
    tier = Tier.objects.order_by("rank").first()
    # One transaction for all of it: SQLite (make run) pays a disk sync per commit, and the shops are
    # all-or-nothing anyway. The facts the services announce are delivered after it commits.
    with transaction.atomic():
        created_offers = _seed_shops(owner=owner, reviewer=reviewer, charities=charities, tier=tier)
    return [f"demo shops: {len(DEMO_SHOPS)} merchants in six cities, {created_offers} offers created"]


def _seed_shops(*, owner: Any, reviewer: Any, charities: dict[str, int], tier: Tier | None) -> int:
    created_offers = 0
    for n, spec in enumerate(DEMO_SHOPS):
        merchant = _merchant(n, spec, owner, reviewer)
        for offer_spec in spec["offers"]:
            if Offer.objects.filter(merchant=merchant, title=offer_spec["title"]).exists():
                continue
            offer = services.offer_create(
                merchant=merchant, actor=owner, values=_offer_values(offer_spec, merchant, charities, tier)
            )
            services.offer_submit_for_review(offer_id=offer.pk, actor=owner)
            services.offer_approve(offer_id=offer.pk, actor=reviewer, reason="Demo offer.")
            if "challenge" in offer_spec:
                title, target, bonus = offer_spec["challenge"]
                kind = "purchase_count" if target < 1_000 else "revenue"
                services.challenge_save(
                    offer=offer,
                    values={"title": title, "target_type": kind, "target_value": target, "bonus_minor": bonus},
                )
            created_offers += 1
    return created_offers
