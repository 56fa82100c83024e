"""A brand owner with two regions, a person in every field role, two products of one brand and a live
volume programme with two tiers and a budget per region — built through the services."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from programmes import services
from programmes.models import BrandOwner, FieldRole, Product, Programme, Region
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantFactory

TIER_ONE = (100, 50_000)  # 100 units → NOK 500.00
TIER_TWO = (250, 150_000)  # 250 units → NOK 1 500.00 more
CONTRACT_REWARDS = TIER_ONE[1] + TIER_TWO[1]


@dataclass
class World:
    brand_owner: BrandOwner
    north: Region
    south: Region
    sales_north: FieldRole
    sales_north_2: FieldRole
    sales_south: FieldRole
    head_north: FieldRole
    head_south: FieldRole
    programme_admin: FieldRole
    marketing_admin: FieldRole
    finance_admin: FieldRole
    soap: Product
    shampoo: Product
    other: Product
    programme: Programme

    @property
    def today(self) -> datetime.date:
        return timezone.localdate()


def _role(brand_owner: BrandOwner, role: str, regions: list[Region], name: str) -> FieldRole:
    return services.field_role_grant(
        brand_owner=brand_owner, user=UserFactory(full_name=name), role=role, regions=regions
    )


def programme_world(*, north_budget: int = 1_000_000, south_budget: int = 400_000) -> World:
    merchant = MerchantFactory(display_name="Unilife Brands", currency="NOK")
    brand_owner = services.brand_owner_enable(merchant=merchant)
    north = services.region_create(brand_owner=brand_owner, name="North")
    south = services.region_create(brand_owner=brand_owner, name="South")
    programme_admin = _role(brand_owner, "programme_admin", [], "Pia Programme")
    soap = services.product_create(brand_owner=brand_owner, brand_name="Lumi", sku="LUMI-SOAP", name="Lumi soap")
    shampoo = services.product_create(brand_owner=brand_owner, brand_name="Lumi", sku="LUMI-SH", name="Lumi shampoo")
    other = services.product_create(brand_owner=brand_owner, brand_name="Krisp", sku="KRISP-1", name="Krisp chips")
    today = timezone.localdate()
    programme = services.programme_create(
        role=programme_admin,
        name="Lumi wholesale growth",
        target_kind="volume",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
        tiers=[services.TierSpec(*TIER_TWO), services.TierSpec(*TIER_ONE)],
        brands=[soap.brand],
        budgets={north: north_budget, south: south_budget},
    )
    return World(
        brand_owner=brand_owner,
        north=north,
        south=south,
        sales_north=_role(brand_owner, "sales", [north], "Sam North"),
        sales_north_2=_role(brand_owner, "sales", [north], "Siri North"),
        sales_south=_role(brand_owner, "sales", [south], "Sol South"),
        head_north=_role(brand_owner, "regional_head", [north], "Hanna Head"),
        head_south=_role(brand_owner, "regional_head", [south], "Harald Head"),
        programme_admin=programme_admin,
        marketing_admin=_role(brand_owner, "marketing_admin", [], "Mona Marketing"),
        finance_admin=_role(brand_owner, "finance_admin", [], "Finn Finance"),
        soap=soap,
        shampoo=shampoo,
        other=other,
        programme=programme,
    )


_phone_counter = iter(range(10_000, 99_999))


def customer(world: World, *, sales: FieldRole | None = None, code: str | None = None, region: Region | None = None):
    sales = sales or world.sales_north
    number = next(_phone_counter)
    return services.customer_register(
        role=sales,
        region=region or sales.regions.get(),
        kind="wholesaler",
        code=code or f"WS-{number}",
        name=f"Toko {number}",
        contact_name=f"Owner {number}",
        phone=f"+479{number:07d}",
    )


def approved_contract(world: World, **kwargs):
    sales = kwargs.get("sales") or world.sales_north
    business = customer(world, **kwargs)
    contract = services.contract_propose(
        role=sales,
        customer=business,
        programme=world.programme,
        contract_type="growth",
        starts_on=world.programme.starts_on,
        expires_on=world.programme.ends_on,
    )
    head = world.head_north if business.region == world.north else world.head_south
    return services.contract_approve(role=head, contract=contract)


def sales_csv(*rows: tuple[str, str, str, str, str]) -> bytes:
    lines = ["customer_code,sku,date,quantity,value", *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()
