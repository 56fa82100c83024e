"""A brand owner with a marketing and a finance admin, catalogue items and members with points — built
through the services, as in production."""

import datetime
import re
import uuid
from dataclasses import dataclass

from django.utils import timezone

from programmes import catalogue, services, vouchers
from programmes.catalogue_models import RewardItem, VoucherBatch
from programmes.models import BrandOwner, FieldRole
from tests.accounts.factories import PhoneUserFactory, UserFactory
from tests.merchants.factories import MerchantFactory
from wallet.points import points_award


@dataclass
class Shop:
    brand_owner: BrandOwner
    marketing: FieldRole
    finance: FieldRole
    sales_role_holder: FieldRole | None = None


def shop() -> Shop:
    merchant = MerchantFactory(display_name="Nusa Brands", currency="NOK")
    brand_owner = services.brand_owner_enable(merchant=merchant)
    marketing = services.field_role_grant(brand_owner=brand_owner, user=UserFactory(), role="marketing_admin")
    finance = services.field_role_grant(brand_owner=brand_owner, user=UserFactory(), role="finance_admin")
    return Shop(brand_owner=brand_owner, marketing=marketing, finance=finance)


def spec(**overrides) -> catalogue.ItemSpec:
    today = timezone.localdate()
    values = {
        "kind": "prepaid_voucher",
        "name": "Coffee voucher",
        "description": "A large coffee at any Kopi shop.",
        "price_kind": "points",
        "price": 500,
        "stock": 10,
        "valid_from": today - datetime.timedelta(days=1),
        "valid_until": today + datetime.timedelta(days=30),
        "code_source": "generated",
    }
    values.update(overrides)
    return catalogue.ItemSpec(**values)


def item(world: Shop, **overrides) -> RewardItem:
    return catalogue.reward_item_create(role=world.marketing, spec=spec(**overrides))


def member(world: Shop, *, points: int = 0, **kwargs):
    person = PhoneUserFactory(**kwargs)
    if points:
        give_points(world, person, points)
    return person


def give_points(world: Shop, person, points: int) -> None:
    points_award(
        user=person,
        points=points,
        merchant_id=world.brand_owner.merchant_id,
        idempotency_key=f"test:points:{uuid.uuid4().hex}",
        memo="Test points",
    )


def active_batch(world: Shop, reward: RewardItem, codes: list[str]) -> VoucherBatch:
    content = ("code\n" + "\n".join(codes) + "\n").encode()
    batch = vouchers.voucher_batch_upload(role=world.marketing, item=reward, filename="codes.csv", content=content)
    return vouchers.voucher_batch_activate(role=world.finance, batch=batch)


def claim_code_from(body: str) -> str:
    match = re.match(r"(\d{6}) is your code", body)
    assert match, body
    return match.group(1)
