"""Sales-target programmes through their services: registering, proposing, approving, sales files,
tiers paid once through the ledger, budgets, and bad input refused with nothing written."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programmes import errors, services
from programmes.models import (
    BusinessCustomer,
    Contract,
    ContractEvent,
    Programme,
    RegionBudget,
    SalesLine,
    SalesUpload,
    TierReward,
)
from tests.programmes.factories import (
    CONTRACT_REWARDS,
    TIER_ONE,
    TIER_TWO,
    approved_contract,
    customer,
    programme_world,
    sales_csv,
)
from wallet.models import JournalKind, JournalTransaction
from wallet.selectors import wallet_balances

pytestmark = pytest.mark.django_db


def _available(user) -> int:
    (row,) = [row for row in wallet_balances(user=user) if row.currency == "NOK"]
    return row.available


def _day(world, offset: int = 0) -> str:
    return (world.today + datetime.timedelta(days=offset)).isoformat()


def test_sales_registers_a_wholesaler_whose_phone_gets_a_wallet_account():
    world = programme_world()

    business = services.customer_register(
        role=world.sales_north,
        region=world.north,
        kind="wholesaler",
        code="WS-1",
        name="Toko Makmur",
        contact_name="Budi",
        phone="+47 912 34 567",
    )

    assert business.user.phone == "+4791234567"
    assert business.registered_by == world.sales_north.user
    assert not business.user.has_usable_password()


def test_registering_outside_ones_region_or_role_or_twice_is_refused():
    world = programme_world()
    customer(world, code="WS-1")

    with pytest.raises(errors.RegionNotAllowedError):
        customer(world, sales=world.sales_north, region=world.south)
    with pytest.raises(errors.RoleNotAllowedError):
        customer(world, sales=world.finance_admin, region=world.north)
    with pytest.raises(errors.DuplicateCustomerCodeError):
        customer(world, code="WS-1")
    assert BusinessCustomer.objects.count() == 1


def test_a_contract_outside_the_programmes_period_is_refused_and_nothing_is_written():
    world = programme_world()
    business = customer(world)

    with pytest.raises(errors.ContractOutsidePeriodError):
        services.contract_propose(
            role=world.sales_north,
            customer=business,
            programme=world.programme,
            contract_type="growth",
            starts_on=world.programme.starts_on,
            expires_on=world.programme.ends_on + datetime.timedelta(days=1),
        )
    assert not Contract.objects.exists()
    assert not ContractEvent.objects.exists()


def test_the_regional_head_approves_and_the_contracts_rewards_are_committed_from_the_budget():
    world = programme_world()

    contract = approved_contract(world)

    budget = RegionBudget.objects.get(programme=world.programme, region=world.north)
    assert contract.status == Contract.Status.APPROVED
    assert contract.decided_by == world.head_north.user
    assert contract.committed_minor == budget.committed_minor == CONTRACT_REWARDS
    assert budget.paid_minor == 0


def test_only_the_head_of_the_customers_region_approves_and_only_once():
    world = programme_world()
    business = customer(world)
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=world.programme,
        contract_type="tactical",
        starts_on=world.today,
        expires_on=world.programme.ends_on,
    )

    with pytest.raises(errors.RegionNotAllowedError):
        services.contract_approve(role=world.head_south, contract=contract)
    with pytest.raises(errors.RoleNotAllowedError):
        services.contract_approve(role=world.sales_north, contract=contract)
    services.contract_approve(role=world.head_north, contract=contract)
    with pytest.raises(errors.ContractNotProposedError):
        services.contract_approve(role=world.head_north, contract=contract)
    assert RegionBudget.objects.get(region=world.north).committed_minor == CONTRACT_REWARDS


def test_approval_beyond_the_budget_left_is_refused_and_changes_nothing():
    world = programme_world(north_budget=CONTRACT_REWARDS + 1)
    approved_contract(world)
    business = customer(world)
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=world.programme,
        contract_type="growth",
        starts_on=world.today,
        expires_on=world.programme.ends_on,
    )

    with pytest.raises(errors.BudgetExceededError):
        services.contract_approve(role=world.head_north, contract=contract)

    contract.refresh_from_db()
    assert contract.status == Contract.Status.PROPOSED
    assert RegionBudget.objects.get(region=world.north).committed_minor == CONTRACT_REWARDS
    assert list(contract.events.values_list("action", flat=True)) == ["proposed"]


def test_rejection_needs_a_reason_and_is_in_the_history():
    world = programme_world()
    business = customer(world)
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=world.programme,
        contract_type="growth",
        starts_on=world.today,
        expires_on=world.programme.ends_on,
    )

    with pytest.raises(errors.InvalidProgrammeError):
        services.contract_reject(role=world.head_north, contract=contract, reason="  ")
    services.contract_reject(role=world.head_north, contract=contract, reason="Too small a shop")

    assert list(contract.events.values_list("action", "details__reason")) == [
        ("proposed", None),
        ("rejected", "Too small a shop"),
    ]


def test_a_sales_file_reaching_a_tier_pays_its_reward_into_the_wallet_once():
    world = programme_world()
    contract = approved_contract(world)
    code = contract.customer.code

    services.sales_file_apply(
        role=world.finance_admin,
        filename="week1.csv",
        content=sales_csv((code, "LUMI-SOAP", _day(world), "60", "600.00"), (code, "LUMI-SH", _day(world), "40", "")),
    )

    contract.refresh_from_db()
    assert contract.achieved == 100
    assert _available(contract.customer.user) == TIER_ONE[1]
    assert contract.paid_minor == TIER_ONE[1]
    assert RegionBudget.objects.get(region=world.north).paid_minor == TIER_ONE[1]
    journal = JournalTransaction.objects.get(kind=JournalKind.PROGRAMME_REWARD)
    assert journal.idempotency_key == services.reward_ledger_key(
        contract_id=contract.pk, tier_id=contract.tier_rewards.get().tier_id
    )

    services.contract_settle(contract=contract)
    services.contract_settle(contract=contract)

    assert TierReward.objects.count() == 1
    assert JournalTransaction.objects.filter(kind=JournalKind.PROGRAMME_REWARD).count() == 1
    assert _available(contract.customer.user) == TIER_ONE[1]


def test_only_the_programmes_products_within_the_contracts_dates_count_and_tiers_add_up():
    world = programme_world()
    contract = approved_contract(world)
    code = contract.customer.code
    before_programme = (world.programme.starts_on - datetime.timedelta(days=1)).isoformat()

    services.sales_file_apply(
        role=world.finance_admin,
        filename="mixed.csv",
        content=sales_csv(
            (code, "KRISP-1", _day(world), "500", ""),  # another brand: does not count
            (code, "LUMI-SOAP", before_programme, "500", ""),  # before the contract: does not count
            (code, "LUMI-SOAP", _day(world, -1), "99", ""),
        ),
    )
    contract.refresh_from_db()
    assert contract.achieved == 99
    assert _available(contract.customer.user) == 0

    services.sales_file_apply(
        role=world.finance_admin,
        filename="big.csv",
        content=sales_csv((code, "LUMI-SOAP", _day(world), "151", "")),
    )

    contract.refresh_from_db()
    assert contract.achieved == TIER_TWO[0]
    assert _available(contract.customer.user) == CONTRACT_REWARDS == contract.paid_minor
    assert list(contract.events.values_list("action", flat=True)) == [
        "proposed",
        "approved",
        "achievement",
        "achievement",
        "tier_reached",
        "tier_reached",
    ]


def test_sales_arriving_before_approval_count_when_the_head_approves():
    world = programme_world()
    business = customer(world)
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=world.programme,
        contract_type="growth",
        starts_on=world.programme.starts_on,
        expires_on=world.programme.ends_on,
    )
    services.sales_file_apply(
        role=world.finance_admin,
        filename="a.csv",
        content=sales_csv((business.code, "LUMI-SOAP", _day(world), "120", "")),
    )
    assert _available(business.user) == 0

    services.contract_approve(role=world.head_north, contract=contract)

    assert _available(business.user) == TIER_ONE[1]


def test_a_file_with_unknown_customers_or_negative_quantities_is_reported_row_by_row_and_nothing_applied():
    world = programme_world()
    contract = approved_contract(world)
    code = contract.customer.code

    with pytest.raises(errors.SalesFileError) as raised:
        services.sales_file_apply(
            role=world.finance_admin,
            filename="bad.csv",
            content=sales_csv(
                (code, "LUMI-SOAP", _day(world), "500", ""),
                ("NOBODY", "LUMI-SOAP", _day(world), "5", ""),
                (code, "LUMI-SOAP", _day(world), "-3", ""),
                (code, "NOPE", "31/12/2026", "2", "-1.00"),
            ),
        )

    lines = dict(raised.value.rows)
    assert set(lines) == {3, 4, 5}
    assert "unknown customer 'NOBODY'" in lines[3]
    assert "quantity -3 must be more than zero" in lines[4]
    assert "unknown product 'NOPE'" in lines[5] and "not a date" in lines[5] and "negative" in lines[5]
    assert not SalesUpload.objects.exists()
    assert not SalesLine.objects.exists()
    assert not TierReward.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "must name the columns"),
        (b"customer,sku\nA,B\n", "must name the columns"),
        (b"customer_code,sku,date,quantity,value\n", "no sales rows"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_sales_file_is_refused(content, message):
    world = programme_world()

    with pytest.raises(errors.SalesFileError) as raised:
        services.sales_file_apply(role=world.finance_admin, filename="x.csv", content=content)

    assert message in raised.value.rows[0][1]


def test_the_same_file_twice_is_refused_and_only_finance_uploads():
    world = programme_world()
    contract = approved_contract(world)
    content = sales_csv((contract.customer.code, "LUMI-SOAP", _day(world), "100", ""))
    services.sales_file_apply(role=world.finance_admin, filename="a.csv", content=content)

    with pytest.raises(errors.DuplicateSalesFileError):
        services.sales_file_apply(role=world.finance_admin, filename="again.csv", content=content)
    with pytest.raises(errors.RoleNotAllowedError):
        services.sales_file_apply(role=world.head_north, filename="b.csv", content=content + b"\n")
    assert SalesLine.objects.count() == 1


def test_a_target_without_a_reward_is_refused_and_no_programme_is_written():
    world = programme_world()

    for tiers in ([services.TierSpec(100, None)], [services.TierSpec(100, 10), services.TierSpec(200, 0)]):
        with pytest.raises(errors.TierWithoutRewardError):
            services.programme_create(
                role=world.programme_admin,
                name="No reward",
                target_kind="value",
                starts_on=world.today,
                ends_on=world.today,
                tiers=tiers,
                brands=[world.soap.brand],
            )
    assert Programme.objects.count() == 1


def test_a_budget_below_what_is_committed_is_refused():
    world = programme_world()
    approved_contract(world)

    with pytest.raises(errors.BudgetBelowCommittedError):
        services.region_budget_set(
            role=world.finance_admin, programme=world.programme, region=world.north, amount_minor=CONTRACT_REWARDS - 1
        )
    with pytest.raises(errors.RoleNotAllowedError):
        services.region_budget_set(
            role=world.head_north, programme=world.programme, region=world.north, amount_minor=CONTRACT_REWARDS
        )
    budget = services.region_budget_set(
        role=world.finance_admin, programme=world.programme, region=world.north, amount_minor=CONTRACT_REWARDS
    )
    assert budget.left_minor == 0


def test_the_contract_history_cannot_be_changed_in_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")

    world = programme_world()
    contract = approved_contract(world)

    with pytest.raises(DatabaseError), transaction.atomic():
        ContractEvent.objects.filter(contract=contract).update(action="rejected")
    with pytest.raises(DatabaseError), transaction.atomic():
        ContractEvent.objects.filter(contract=contract).delete()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantities=st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=5))
def test_whatever_the_sales_the_paid_rewards_are_exactly_the_tiers_reached(quantities):
    world = programme_world()
    contract = approved_contract(world)

    for index, quantity in enumerate(quantities):
        services.sales_file_apply(
            role=world.finance_admin,
            filename=f"{index}.csv",
            content=sales_csv((contract.customer.code, "LUMI-SOAP", _day(world, -index), str(quantity), "")),
        )

    total = sum(quantities)
    expected = sum(reward for threshold, reward in (TIER_ONE, TIER_TWO) if total >= threshold)
    contract.refresh_from_db()
    budget = RegionBudget.objects.get(region=world.north)
    assert contract.achieved == total
    assert contract.paid_minor == budget.paid_minor == expected == _available(contract.customer.user)
    assert budget.paid_minor <= budget.committed_minor <= budget.amount_minor


def test_a_value_programme_counts_the_amounts_sold_in_minor_units():
    world = programme_world()
    programme = services.programme_create(
        role=world.programme_admin,
        name="Krisp value",
        target_kind="value",
        starts_on=world.programme.starts_on,
        ends_on=world.programme.ends_on,
        tiers=[services.TierSpec(100_000, 7_500)],
        products=[world.other],
        budgets={world.north: 10_000},
    )
    business = customer(world)
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=programme,
        contract_type="tactical",
        starts_on=programme.starts_on,
        expires_on=programme.ends_on,
    )
    services.contract_approve(role=world.head_north, contract=contract)

    services.sales_file_apply(
        role=world.finance_admin,
        filename="v.csv",
        content=sales_csv(
            (business.code, "KRISP-1", _day(world), "3", "600.00"), (business.code, "KRISP-1", _day(world), "1", "400")
        ),
    )

    contract.refresh_from_db()
    assert contract.achieved == 100_000
    assert _available(business.user) == 7_500
