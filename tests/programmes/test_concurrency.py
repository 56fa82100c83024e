"""Regional heads approving and files settling at the same moment, each thread on its own PostgreSQL
connection: the region's budget is never overcommitted and a tier is paid once."""

from collections import Counter

import pytest

from programmes import services
from programmes.models import Contract, RegionBudget, SalesLine, TierReward
from tests.concurrency import run_together
from tests.programmes.factories import (
    CONTRACT_REWARDS,
    TIER_ONE,
    approved_contract,
    customer,
    programme_world,
    sales_csv,
)
from wallet.models import JournalKind, JournalTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_approvals_at_once_never_commit_more_than_the_regions_budget():
    world = programme_world(north_budget=3 * CONTRACT_REWARDS + CONTRACT_REWARDS // 2)
    contracts = [
        services.contract_propose(
            role=world.sales_north,
            customer=customer(world),
            programme=world.programme,
            contract_type="growth",
            starts_on=world.programme.starts_on,
            expires_on=world.programme.ends_on,
        )
        for _ in range(8)
    ]

    results = run_together(lambda i: services.contract_approve(role=world.head_north, contract=contracts[i]), threads=8)

    assert Counter(type(result).__name__ for result in results) == {"Contract": 3, "BudgetExceededError": 5}
    budget = RegionBudget.objects.get(programme=world.programme, region=world.north)
    assert budget.committed_minor == 3 * CONTRACT_REWARDS <= budget.amount_minor
    assert Contract.objects.filter(status=Contract.Status.APPROVED).count() == 3


def test_settling_one_contract_at_once_pays_its_tier_once():
    world = programme_world()
    contract = approved_contract(world)
    services.sales_file_apply(
        role=world.finance_admin,
        filename="a.csv",
        content=sales_csv((contract.customer.code, "LUMI-SOAP", world.today.isoformat(), "40", "")),
    )
    # The next 60 units arrive as a raw line (as if a second file were being applied), then six
    # recounts race to pay the tier it reaches.
    first = SalesLine.objects.get()
    SalesLine.objects.create(
        upload=first.upload,
        customer=first.customer,
        product=first.product,
        sold_on=first.sold_on,
        quantity=60,
        value_minor=0,
        line_number=3,
    )

    results = run_together(lambda _: services.contract_settle(contract=contract), threads=6)

    assert not [result for result in results if isinstance(result, Exception)]
    assert sum(len(result) for result in results) == 1
    assert TierReward.objects.count() == 1
    assert JournalTransaction.objects.filter(kind=JournalKind.PROGRAMME_REWARD).count() == 1
    budget = RegionBudget.objects.get(programme=world.programme, region=world.north)
    assert budget.paid_minor == TIER_ONE[1]


def test_two_finance_admins_uploading_the_same_file_at_once_apply_it_once():
    world = programme_world()
    contract = approved_contract(world)
    content = sales_csv((contract.customer.code, "LUMI-SOAP", world.today.isoformat(), "100", ""))

    results = run_together(
        lambda _: services.sales_file_apply(role=world.finance_admin, filename="a.csv", content=content), threads=4
    )

    assert Counter(type(result).__name__ for result in results) == {"SalesUpload": 1, "DuplicateSalesFileError": 3}
    assert TierReward.objects.count() == 1
