"""Cancelling or expiring a contract gives what it committed and did not pay back to the region's budget."""

import datetime

import pytest

from programmes import services
from programmes.contract_closing import contract_cancel, contracts_expire
from programmes.errors import ContractNotOpenError, InvalidProgrammeError, RegionNotAllowedError, RoleNotAllowedError
from programmes.models import Contract, RegionBudget
from programmes.tasks import contracts_expire_due
from tests.programmes.factories import CONTRACT_REWARDS, TIER_ONE, approved_contract, programme_world, sales_csv

pytestmark = pytest.mark.django_db


def _budget(world, region=None):
    return RegionBudget.objects.get(programme=world.programme, region=region or world.north)


def test_cancelling_an_approved_contract_releases_what_it_did_not_pay():
    world = programme_world()
    contract = approved_contract(world)
    services.sales_file_apply(
        role=world.finance_admin,
        filename="s.csv",
        content=sales_csv((contract.customer.code, "LUMI-SOAP", world.today.isoformat(), "100", "")),
    )
    assert _budget(world).committed_minor == CONTRACT_REWARDS

    contract_cancel(role=world.head_north, contract=contract, reason="Shop closed")

    contract.refresh_from_db()
    budget = _budget(world)
    assert contract.status == Contract.Status.CANCELLED
    assert contract.committed_minor == contract.paid_minor == TIER_ONE[1]
    assert (budget.committed_minor, budget.paid_minor) == (TIER_ONE[1], TIER_ONE[1])
    event = contract.events.get(action="cancelled")
    assert event.details["released_minor"] == CONTRACT_REWARDS - TIER_ONE[1]


def test_a_cancel_without_reason_by_another_region_or_role_or_twice_is_refused_and_changes_nothing():
    world = programme_world()
    contract = approved_contract(world)
    with pytest.raises(InvalidProgrammeError):
        contract_cancel(role=world.head_north, contract=contract, reason=" ")
    with pytest.raises(RegionNotAllowedError):
        contract_cancel(role=world.head_south, contract=contract, reason="x")
    with pytest.raises(RoleNotAllowedError):
        contract_cancel(role=world.sales_north, contract=contract, reason="x")
    assert _budget(world).committed_minor == CONTRACT_REWARDS
    contract_cancel(role=world.programme_admin, contract=contract, reason="Programme stopped")
    with pytest.raises(ContractNotOpenError):
        contract_cancel(role=world.programme_admin, contract=contract, reason="again")
    assert _budget(world).committed_minor == 0


def test_expired_contracts_release_their_budget_once():
    world = programme_world()
    contract = approved_contract(world)
    Contract.objects.filter(pk=contract.pk).update(expires_on=world.today - datetime.timedelta(days=1))

    assert contracts_expire_due() == 1
    assert contracts_expire(today=world.today) == 0

    contract.refresh_from_db()
    assert contract.status == Contract.Status.EXPIRED
    assert _budget(world).committed_minor == 0
    # the customer may be offered the programme again: an expired contract is not open
    assert contract.events.filter(action="expired").count() == 1


def test_a_contract_still_running_does_not_expire():
    world = programme_world()
    approved_contract(world)
    assert contracts_expire(today=world.today) == 0
    assert _budget(world).committed_minor == CONTRACT_REWARDS
