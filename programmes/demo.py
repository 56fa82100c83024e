"""Demo data of the business programmes (seed 002): "Nusantara Brands", a brand owner with two regions,
a person in every field role (password ``demo-password-2026``), two brands, a live volume programme with
two tiers and a budget per region, wholesalers and a service provider, contracts in every state, and one
sales file that took a wholesaler past the first tier. Idempotent: looks up before it creates and goes
through the services."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from merchants import services as merchant_services
from merchants.demo import DEMO_ORG_NUMBER as DEMO_SHOP_ORG_NUMBER
from merchants.models import Merchant
from programmes import services
from programmes.action_demo import seed_demo_actions
from programmes.catalogue_demo import seed_demo_catalogue
from programmes.linked_sources import source_link_shop
from programmes.models import (
    BrandOwner,
    BusinessCustomer,
    Contract,
    CustomerSourceLink,
    FieldRole,
    Programme,
    Region,
    SalesUpload,
)

DEMO_PASSWORD = "demo-password-2026"
DEMO_ORG_NUMBER = "912345688"
DEMO_REVIEWER_EMAIL = "admin@demo.cashback.example"
PROGRAMME_NAME = "Lumi wholesale growth"
# (e-mail, full name, role, regions)
PEOPLE = (
    ("programme-admin@demo.cashback.example", "Putri Programme", "programme_admin", ()),
    ("brand-marketing@demo.cashback.example", "Maya Marketing", "marketing_admin", ()),
    ("brand-finance@demo.cashback.example", "Fajar Finance", "finance_admin", ()),
    ("head-north@demo.cashback.example", "Hendra Head", "regional_head", ("North",)),
    ("head-south@demo.cashback.example", "Sari Head", "regional_head", ("South",)),
    ("sales-north@demo.cashback.example", "Budi Sales", "sales", ("North",)),
    ("sales-south@demo.cashback.example", "Dewi Sales", "sales", ("South",)),
)
# (code, name, kind, region, contact, phone, contract type, decision)
CUSTOMERS = (
    ("WS-1001", "Toko Makmur", "wholesaler", "North", "Agus", "+4790011001", "growth", "approved"),
    ("WS-1002", "Grosir Sentosa", "wholesaler", "North", "Rina", "+4790011002", "tactical", "approved"),
    ("SP-2001", "Hotel Melati", "service_provider", "North", "Joko", "+4790011003", "growth", "proposed"),
    ("WS-3001", "Toko Jaya", "wholesaler", "South", "Wati", "+4790011004", "growth", "approved"),
)


def _person(email: str, full_name: str):
    user, created = get_user_model().objects.get_or_create(email=email, defaults={"full_name": full_name})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _brand_owner(report: list[str]) -> BrandOwner:
    merchant = Merchant.objects.filter(country="NO", organisation_number=DEMO_ORG_NUMBER).first()
    if merchant is None:
        applicant = _person(PEOPLE[0][0], PEOPLE[0][1])
        merchant = merchant_services.merchant_apply(
            applicant=applicant,
            legal_name="Nusantara Brands AS",
            display_name="Nusantara Brands",
            organisation_number=DEMO_ORG_NUMBER,
            country="NO",
            category_code="5141",
            contact_name="Putri Programme",
            contact_email=PEOPLE[0][0],
            contact_phone="+4722110000",
        )
        reviewer = get_user_model().objects.filter(email=DEMO_REVIEWER_EMAIL).first()
        merchant_services.merchant_approve(merchant=merchant, actor=reviewer)
        report.append("created brand owner Nusantara Brands")
    return services.brand_owner_enable(merchant=merchant)


def _roles(brand_owner: BrandOwner) -> dict[str, FieldRole]:
    regions = {name: services.region_create(brand_owner=brand_owner, name=name) for name in ("North", "South")}
    roles = {}
    for email, full_name, role, region_names in PEOPLE:
        user = _person(email, full_name)
        existing = FieldRole.objects.filter(brand_owner=brand_owner, user=user).first()
        roles[email] = existing or services.field_role_grant(
            brand_owner=brand_owner, user=user, role=role, regions=[regions[name] for name in region_names]
        )
    return roles


def _programme(brand_owner: BrandOwner, admin: FieldRole, today: datetime.date) -> Programme:
    existing = Programme.objects.filter(brand_owner=brand_owner, name=PROGRAMME_NAME).first()
    if existing:
        return existing
    soap = services.product_create(brand_owner=brand_owner, brand_name="Lumi", sku="LUMI-SOAP", name="Lumi soap 90 g")
    services.product_create(brand_owner=brand_owner, brand_name="Lumi", sku="LUMI-SH", name="Lumi shampoo 170 ml")
    services.product_create(brand_owner=brand_owner, brand_name="Krisp", sku="KRISP-1", name="Krisp chips 68 g")
    regions = {region.name: region for region in Region.objects.filter(brand_owner=brand_owner)}
    return services.programme_create(
        role=admin,
        name=PROGRAMME_NAME,
        target_kind="volume",
        starts_on=today.replace(day=1),
        ends_on=today.replace(day=1) + datetime.timedelta(days=119),
        tiers=[services.TierSpec(100, 50_000), services.TierSpec(250, 150_000)],
        brands=[soap.brand],
        budgets={regions["North"]: 1_000_000, regions["South"]: 400_000},
    )


def _linked_shop(brand_owner: BrandOwner, admin: FieldRole) -> list[str]:
    """Toko Makmur also trades as the demo shop Fjord Coffee: its card purchases there count for its value
    contracts (the customer's sources page shows the link). Skipped without the demo shop."""
    business = BusinessCustomer.objects.filter(brand_owner=brand_owner, code="WS-1001").first()
    shop = Merchant.objects.filter(country="NO", organisation_number=DEMO_SHOP_ORG_NUMBER).first()
    if business is None or shop is None:
        return []
    if CustomerSourceLink.objects.filter(customer=business, merchant=shop, removed_at__isnull=True).exists():
        return []
    source_link_shop(role=admin, customer=business, organisation_number=DEMO_SHOP_ORG_NUMBER)
    return ["linked Toko Makmur to its shop Fjord Coffee (card purchases there count for value contracts)"]


def seed_demo_programmes() -> list[str]:
    report: list[str] = []
    brand_owner = _brand_owner(report)
    roles = _roles(brand_owner)
    today = timezone.localdate()
    programme = _programme(brand_owner, roles[PEOPLE[0][0]], today)
    sales = {"North": roles["sales-north@demo.cashback.example"], "South": roles["sales-south@demo.cashback.example"]}
    heads = {"North": roles["head-north@demo.cashback.example"], "South": roles["head-south@demo.cashback.example"]}
    for code, name, kind, region_name, contact, phone, contract_type, decision in CUSTOMERS:
        business = BusinessCustomer.objects.filter(brand_owner=brand_owner, code=code).first()
        if business is None:
            business = services.customer_register(
                role=sales[region_name],
                region=sales[region_name].regions.get(),
                kind=kind,
                code=code,
                name=name,
                contact_name=contact,
                phone=phone,
            )
            report.append(f"registered business customer {name}")
        if Contract.objects.filter(customer=business, programme=programme).exists():
            continue
        # One contract expires within the month, for the dashboard's "expiring soon".
        expires = (
            programme.ends_on if code != "WS-1002" else min(programme.ends_on, today + datetime.timedelta(days=20))
        )
        contract = services.contract_propose(
            role=sales[region_name],
            customer=business,
            programme=programme,
            contract_type=contract_type,
            starts_on=programme.starts_on,
            expires_on=max(expires, programme.starts_on),
        )
        if decision == "approved":
            services.contract_approve(role=heads[region_name], contract=contract)
    if not SalesUpload.objects.filter(brand_owner=brand_owner).exists():
        day = max(programme.starts_on, today - datetime.timedelta(days=1)).isoformat()
        rows = [
            ("WS-1001", "LUMI-SOAP", day, "80", "800.00"),
            ("WS-1001", "LUMI-SH", day, "45", "675.00"),
            ("WS-1002", "LUMI-SOAP", day, "60", "600.00"),
            ("WS-3001", "LUMI-SH", day, "30", "450.00"),
            ("WS-3001", "KRISP-1", day, "200", "1000.00"),
        ]
        content = ("customer_code,sku,date,quantity,value\n" + "".join(",".join(row) + "\n" for row in rows)).encode()
        services.sales_file_apply(
            role=roles["brand-finance@demo.cashback.example"], filename="demo-sales.csv", content=content
        )
        report.append("applied the demo sales file (Toko Makmur reached the first tier)")
    report += _linked_shop(brand_owner, roles[PEOPLE[0][0]])
    report += seed_demo_catalogue(
        brand_owner=brand_owner,
        marketing=roles["brand-marketing@demo.cashback.example"],
        finance=roles["brand-finance@demo.cashback.example"],
        password=DEMO_PASSWORD,
    )
    report += seed_demo_actions(brand_owner=brand_owner, marketing=roles["brand-marketing@demo.cashback.example"])
    report.append(
        "business programmes: log in as sales-north@, head-north@ or brand-finance@demo.cashback.example "
        f"(password: {DEMO_PASSWORD}) and open /programmes/"
    )
    return report
