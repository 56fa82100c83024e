"""Redeeming catalogue items through the ledger (programmes.catalogue): hold, capture, release; stock,
eligibility and the member's balance."""

import datetime
import uuid

import pytest
from django.utils import timezone

from cashback.errors import PermissionDeniedError
from programmes import catalogue, services
from programmes.catalogue_errors import (
    InsufficientCashbackError,
    InsufficientPointsError,
    InvalidRewardItemError,
    NotEligibleError,
    NoVoucherCodeLeftError,
    OutOfStockError,
    RewardUnavailableError,
)
from programmes.catalogue_models import Redemption, RewardItem, VoucherCode
from tests.programmes.catalogue_factories import active_batch, item, member, shop, spec
from tests.programmes.factories import approved_contract, programme_world
from tests.wallet.factories import consumer_accounts, fund
from wallet.invariants import ledger_violations
from wallet.models import AccountKind, Hold, JournalKind, LedgerAccount
from wallet.points import points_balance, points_issuance_account

pytestmark = pytest.mark.django_db


def _key() -> str:
    return uuid.uuid4().hex


def test_redeeming_for_points_holds_then_captures_them_and_issues_a_voucher():
    world = shop()
    reward = item(world, price=500, stock=3)
    person = member(world, points=800)

    redemption = catalogue.catalogue_redeem(user=person, item=reward, request_key=_key())

    assert redemption.status == Redemption.Status.ISSUED
    assert points_balance(user=person) == 300
    hold = Hold.objects.get(pk=redemption.hold_id)
    assert hold.status == Hold.Status.POSTED and hold.posted_transaction.kind == JournalKind.POINTS_REDEEM
    issuance = points_issuance_account(merchant_id=world.brand_owner.merchant_id)
    assert issuance.balance == -300  # 800 given, 500 came back through the catalogue
    voucher = VoucherCode.objects.get(pk=redemption.voucher_id)
    assert voucher.holder == person and voucher.status == VoucherCode.Status.ISSUED
    assert RewardItem.objects.get(pk=reward.pk).stock == 2
    assert ledger_violations() == []


def test_redeeming_for_cashback_spends_available_cashback_at_the_owner():
    world = shop()
    reward = item(world, price_kind="cashback", price=12_500, name="Cinema night", kind="event_invitation")
    person = member(world)
    _, available = consumer_accounts(person)
    fund(available, 20_000)

    redemption = catalogue.catalogue_redeem(user=person, item=reward, request_key=_key())

    available.refresh_from_db()
    assert available.balance == 7_500 and available.pending_debits == 0
    receivable = LedgerAccount.objects.get(
        owner_key=f"merchant:{world.brand_owner.merchant_id}", kind=AccountKind.MERCHANT_RECEIVABLE
    )
    assert receivable.balance == 12_500
    assert Hold.objects.get(pk=redemption.hold_id).posted_transaction.kind == JournalKind.CATALOGUE_REDEEM
    assert ledger_violations() == []


def test_not_enough_points_takes_nothing():
    world = shop()
    reward = item(world, price=500, stock=3)
    person = member(world, points=499)

    with pytest.raises(InsufficientPointsError):
        catalogue.catalogue_redeem(user=person, item=reward, request_key=_key())

    assert points_balance(user=person) == 499
    assert RewardItem.objects.get(pk=reward.pk).stock == 3
    assert not Redemption.objects.exists() and not Hold.objects.exists()


def test_not_enough_cashback_takes_nothing():
    world = shop()
    reward = item(world, price_kind="cashback", price=10_000)
    person = member(world)

    with pytest.raises(InsufficientCashbackError):
        catalogue.catalogue_redeem(user=person, item=reward, request_key=_key())

    assert RewardItem.objects.get(pk=reward.pk).stock == 10 and not Redemption.objects.exists()


def test_out_of_stock_is_refused():
    world = shop()
    reward = item(world, price=100, stock=1)
    first, second = member(world, points=100), member(world, points=100)
    catalogue.catalogue_redeem(user=first, item=reward, request_key=_key())

    with pytest.raises(OutOfStockError):
        catalogue.catalogue_redeem(user=second, item=reward, request_key=_key())

    assert points_balance(user=second) == 100


def test_the_same_confirmation_twice_is_one_redemption():
    world = shop()
    reward = item(world, price=100)
    person = member(world, points=1_000)
    key = _key()

    first = catalogue.catalogue_redeem(user=person, item=reward, request_key=key)
    again = catalogue.catalogue_redeem(user=person, item=reward, request_key=key)

    assert first.pk == again.pk and points_balance(user=person) == 900


def test_no_code_left_releases_the_hold_and_gives_the_stock_back():
    world = shop()
    reward = item(world, price=200, code_source="uploaded", stock=5)
    person = member(world, points=300)

    with pytest.raises(NoVoucherCodeLeftError):
        catalogue.catalogue_redeem(user=person, item=reward, request_key=_key())

    redemption = Redemption.objects.get()
    assert redemption.status == Redemption.Status.FAILED and redemption.failure
    assert Hold.objects.get(pk=redemption.hold_id).status == Hold.Status.VOIDED
    assert points_balance(user=person) == 300
    assert RewardItem.objects.get(pk=reward.pk).stock == 5
    assert ledger_violations() == []


def test_an_uploaded_code_is_issued_once_activated():
    world = shop()
    reward = item(world, price=200, code_source="uploaded")
    active_batch(world, reward, ["KOPI-0001"])
    person = member(world, points=200)

    redemption = catalogue.catalogue_redeem(user=person, item=reward, request_key=_key())

    assert redemption.voucher.hint == "0001" and redemption.voucher.batch is not None


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"is_active": False}, RewardUnavailableError),
        ({"valid_from": datetime.date(2020, 1, 1), "valid_until": datetime.date(2020, 2, 1)}, RewardUnavailableError),
        ({"segment": "business"}, NotEligibleError),
        ({"segment": "wholesaler"}, NotEligibleError),
    ],
)
def test_who_may_redeem_and_when(overrides, error):
    world = shop()
    reward = item(world, price=10, **overrides)
    person = member(world, points=100)

    with pytest.raises(error):
        catalogue.catalogue_redeem(user=person, item=reward, request_key=_key())

    assert points_balance(user=person) == 100 and not Redemption.objects.exists()


def test_an_item_of_a_programme_is_for_its_customers_with_an_approved_contract():
    world = programme_world()
    contract = approved_contract(world)
    marketing = world.marketing_admin
    reward = catalogue.reward_item_create(role=marketing, spec=spec(price=10, programme=world.programme))
    outsider = member(shop(), points=100)
    insider = contract.customer.user
    from tests.programmes.catalogue_factories import Shop, give_points

    give_points(Shop(world.brand_owner, marketing, world.finance_admin), insider, 100)

    assert catalogue.item_refusal(item=reward, user=insider) is None
    with pytest.raises(NotEligibleError):
        catalogue.catalogue_redeem(user=outsider, item=reward, request_key=_key())
    assert catalogue.catalogue_redeem(user=insider, item=reward, request_key=_key()).status == "issued"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": 0}, "price"),
        ({"stock": -1}, "stock"),
        ({"name": "  "}, "name"),
        ({"valid_until": "five days ago"}, "valid_until"),
    ],
)
def test_an_item_with_bad_values_is_refused_with_the_field_named(overrides, field):
    if overrides.get("valid_until") == "five days ago":  # the date is taken when the test runs, not at import
        overrides = {"valid_until": timezone.localdate() - datetime.timedelta(days=5)}
    world = shop()

    with pytest.raises(InvalidRewardItemError) as caught:
        item(world, **overrides)

    assert field in caught.value.fields and not RewardItem.objects.exists()


def test_only_marketing_manages_items():
    world = shop()

    with pytest.raises(PermissionDeniedError):
        catalogue.reward_item_create(role=world.finance, spec=spec())


def test_a_redemption_left_pending_is_settled_later():
    world = shop()
    reward = item(world, price=100)
    person = member(world, points=100)
    redemption = catalogue.redemption_start(user=person, item=reward, request_key=_key())
    assert points_balance(user=person) == 0  # held

    settled = catalogue.redemptions_settle_stale(now=timezone.now() + datetime.timedelta(minutes=6))

    assert settled == 1
    assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.ISSUED


def test_points_and_e_voucher_tiers_reward_in_their_kind_once():
    world = programme_world()
    reward_item = catalogue.reward_item_create(role=world.marketing_admin, spec=spec(price=10))
    programme = services.programme_create(
        role=world.programme_admin,
        name="Points and vouchers",
        target_kind="volume",
        starts_on=world.programme.starts_on,
        ends_on=world.programme.ends_on,
        tiers=[
            services.TierSpec(10, 1_000, reward_kind="points", reward_points=250),
            services.TierSpec(20, 5_000, reward_kind="e_voucher", reward_item=reward_item),
        ],
        brands=[world.soap.brand],
        budgets={world.north: 100_000},
    )
    business = __import__("tests.programmes.factories", fromlist=["customer"]).customer(world)
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=programme,
        contract_type="growth",
        starts_on=programme.starts_on,
        expires_on=programme.ends_on,
    )
    services.contract_approve(role=world.head_north, contract=contract)
    from tests.programmes.factories import sales_csv

    services.sales_file_apply(
        role=world.finance_admin,
        filename="s.csv",
        content=sales_csv((business.code, "LUMI-SOAP", world.today.isoformat(), "25", "")),
    )
    services.contract_settle(contract=contract)

    assert points_balance(user=business.user) == 250
    assert VoucherCode.objects.filter(holder=business.user, item=reward_item).count() == 1
    assert ledger_violations() == []


def test_a_tier_reward_without_its_points_or_item_is_refused():
    world = programme_world()
    from programmes.errors import TierWithoutRewardError

    for tier in (
        services.TierSpec(10, 1_000, reward_kind="points"),
        services.TierSpec(10, 1_000, reward_kind="e_voucher"),
    ):
        with pytest.raises(TierWithoutRewardError):
            services.programme_create(
                role=world.programme_admin,
                name="Bad",
                target_kind="volume",
                starts_on=world.programme.starts_on,
                ends_on=world.programme.ends_on,
                tiers=[tier],
                brands=[world.soap.brand],
            )


def test_the_task_settles_nothing_when_nothing_is_left_pending():
    from programmes.tasks import redemptions_settle

    world = shop()
    catalogue.catalogue_redeem(user=member(world, points=100), item=item(world, price=100), request_key=_key())

    assert redemptions_settle.delay().get() == 0
