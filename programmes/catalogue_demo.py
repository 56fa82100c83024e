"""Demo data of the rewards catalogue (seeds 002 and 003), seeded by ``programmes.demo`` after the brand
owner and its team: four items of Nusantara Brands (a coffee voucher with uploaded codes finance has
activated, a discount, a free product priced in cashback, an event invitation for business customers), a
batch of generated codes waiting for finance, and a member with points and a verified phone
(``points-member@demo.cashback.example``). Idempotent: looks up before it creates; goes through the
services."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from programmes import catalogue, vouchers
from programmes.catalogue_models import RewardItem
from programmes.models import BrandOwner, FieldRole
from wallet.points import points_award

MEMBER_EMAIL = "points-member@demo.cashback.example"
MEMBER_PHONE = "+4790022001"
MEMBER_POINTS = 2_500
# (name, kind, price kind, price, stock, code source, segment, description)
ITEMS = (
    ("Kopi voucher", "prepaid_voucher", "points", 500, 50, "uploaded", "everyone", "A large coffee at any Kopi shop."),
    ("10% off Lumi shampoo", "discount", "points", 300, 100, "generated", "everyone", "At every partner shop."),
    ("Lumi gift box", "free_product", "cashback", 15_000, 20, "generated", "everyone", "Soap, shampoo and a towel."),
    (
        "Nusantara launch evening",
        "event_invitation",
        "points",
        1_000,
        30,
        "generated",
        "business",
        "An evening with the new range, for our wholesalers and service providers.",
    ),
)
DEMO_CODES = ("KOPI-DEMO-0001", "KOPI-DEMO-0002", "KOPI-DEMO-0003", "KOPI-DEMO-0004", "KOPI-DEMO-0005")


def seed_demo_catalogue(
    *, brand_owner: BrandOwner, marketing: FieldRole, finance: FieldRole, password: str
) -> list[str]:
    report: list[str] = []
    today = timezone.localdate()
    if not RewardItem.objects.filter(brand_owner=brand_owner).exists():
        for name, kind, price_kind, price, stock, source, segment, description in ITEMS:
            item = catalogue.reward_item_create(
                role=marketing,
                spec=catalogue.ItemSpec(
                    kind=kind,
                    name=name,
                    description=description,
                    price_kind=price_kind,
                    price=price,
                    stock=stock,
                    valid_from=today.replace(day=1),
                    valid_until=today + datetime.timedelta(days=180),
                    code_source=source,
                    segment=segment,
                ),
            )
            if source == "uploaded":
                content = ("code\n" + "\n".join(DEMO_CODES) + "\n").encode()
                batch = vouchers.voucher_batch_upload(role=marketing, item=item, filename="kopi.csv", content=content)
                vouchers.voucher_batch_activate(role=finance, batch=batch)
                vouchers.voucher_batch_generate(role=marketing, item=item, count=10)  # waits for finance
        report.append("created the rewards catalogue of Nusantara Brands (4 items, voucher codes)")
    user_model = get_user_model()
    member = user_model.objects.filter(email=MEMBER_EMAIL).first()
    if member is None:
        member = user_model.objects.create_user(
            email=MEMBER_EMAIL, phone=MEMBER_PHONE, password=password, full_name="Putu Points", phone_verified=True
        )
    points_award(
        user=member,
        points=MEMBER_POINTS,
        merchant_id=brand_owner.merchant_id,
        idempotency_key="demo:points:welcome",
        memo="Welcome points",
    )
    report.append(
        f"rewards catalogue: log in as {MEMBER_EMAIL} (password: {password}; {MEMBER_POINTS} points) and open "
        "/wallet/rewards/; marketing and finance manage it as brand-marketing@ and brand-finance@"
    )
    return report
