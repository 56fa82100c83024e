"""Marketing's programme monitoring page: per programme the contracts by status, achievement against
target and tier rewards paid by kind; the voucher codes per batch; the action rules' awards and budget."""

import re
import uuid

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from programmes import actions, services, vouchers
from programmes.catalogue_models import CodeStatus
from tests.accounts.factories import PhoneUserFactory
from tests.programmes.action_factories import action_rule
from tests.programmes.catalogue_factories import Shop, active_batch, item
from tests.programmes.factories import TIER_ONE, approved_contract, customer, programme_world, sales_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return programme_world()


def _cell(page: str, attribute: str) -> str:
    match = re.search(rf"{attribute}[^>]*>([^<]*)<", page)
    assert match, attribute
    return match.group(1).strip()


def _page(client, world, role) -> str:
    client.force_login(role.user)
    response = client.get(reverse("programmes:monitoring", args=[world.brand_owner.merchant_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_marketing_sees_contracts_achievement_and_tier_rewards_by_kind(client, world):
    contract = approved_contract(world)
    approved_contract(world)
    services.contract_propose(
        role=world.sales_north,
        customer=customer(world),
        programme=world.programme,
        contract_type="tactical",
        starts_on=world.programme.starts_on,
        expires_on=world.programme.ends_on,
    )
    services.sales_file_apply(
        role=world.finance_admin,
        filename="a.csv",
        content=sales_csv((contract.customer.code, "LUMI-SOAP", world.today.isoformat(), "125", "")),
    )

    page = _page(client, world, world.marketing_admin)

    section = page.split(f'data-programme="{world.programme.pk}"')[1]
    assert _cell(section, 'data-status="approved"') == "2"
    assert _cell(section, 'data-status="proposed"') == "1"
    assert _cell(section, 'data-status="rejected"') == "0"
    # two approved contracts, a top tier of 250 each: 125 of 500 units is 25 %
    assert "25 %" in section
    assert "125 / 500" in section
    cash = section.split('data-reward-kind="cash"')[1].split("</tr>")[0]
    assert ">1<" in cash
    assert "NOK\xa0500.00" in cash, cash
    assert TIER_ONE[1] == 50_000
    assert 'id="programmes-chart-data"' in page
    assert "vendor/chart.js/chart.umd.js" in page


def test_marketing_sees_voucher_codes_per_batch_and_action_rule_spending(client, world):
    shop = Shop(brand_owner=world.brand_owner, marketing=world.marketing_admin, finance=world.finance_admin)
    reward = item(shop, code_source="uploaded", name="Cinema voucher")
    batch = active_batch(shop, reward, ["CINE-0001", "CINE-0002", "CINE-0003"])
    with transaction.atomic():
        vouchers.voucher_issue(item=reward, holder=PhoneUserFactory(), source="test")
    rule = action_rule(world.marketing_admin, value=2_500, budget=10_000, name="Survey bonus")
    actions.action_report(
        user=PhoneUserFactory(),
        action="survey_completed",
        source="partner",
        origin=f"partner:{world.brand_owner.merchant_id}",
        source_key=uuid.uuid4().hex,
        occurred_at=timezone.now(),
        brand_owner_ids=[world.brand_owner.pk],
        merchant=world.brand_owner.merchant,
    )

    page = _page(client, world, world.marketing_admin)

    row = page.split(f'data-batch="{batch.pk}"')[1].split("</tr>")[0]
    assert "Cinema voucher" in row
    assert _cell(row, "data-issued") == "1"
    assert _cell(row, "data-claimed") == "0"
    assert _cell(row, "data-left") == "2"
    assert batch.codes.filter(status=CodeStatus.ISSUED).count() == 1
    rule_row = page.split(f'data-rule="{rule.pk}"')[1].split("</tr>")[0]
    assert "Survey bonus" in rule_row
    assert re.search(r"25[,.]00 of NOK\xa0100[,.]00", rule_row), rule_row


def test_the_programme_admin_sees_it_and_sales_do_not(client, world):
    assert "Survey" not in _page(client, world, world.programme_admin)
    client.force_login(world.sales_north.user)
    assert client.get(reverse("programmes:monitoring", args=[world.brand_owner.merchant_id])).status_code == 403
    dashboard = client.get(reverse("programmes:contracts", args=[world.brand_owner.merchant_id])).content.decode()
    assert "/monitoring/" not in dashboard


def test_points_rewards_show_their_points_beside_their_cost(client, world):
    points_programme = services.programme_create(
        role=world.programme_admin,
        name="Krisp points push",
        target_kind="volume",
        starts_on=world.programme.starts_on,
        ends_on=world.programme.ends_on,
        tiers=[services.TierSpec(50, 10_000, reward_kind="points", reward_points=1_000)],
        brands=[world.other.brand],
        budgets={world.north: 100_000},
    )
    business = customer(world)
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=points_programme,
        contract_type="growth",
        starts_on=points_programme.starts_on,
        expires_on=points_programme.ends_on,
    )
    services.contract_approve(role=world.head_north, contract=contract)
    services.sales_file_apply(
        role=world.finance_admin,
        filename="k.csv",
        content=sales_csv((business.code, "KRISP-1", world.today.isoformat(), "60", "")),
    )

    page = _page(client, world, world.marketing_admin)

    section = page.split(f'data-programme="{points_programme.pk}"')[1].split("data-programme=")[0]
    points = section.split('data-reward-kind="points"')[1].split("</tr>")[0]
    assert "1,000 points" in points or "1000 points" in points or "1 000 points" in points, points
    assert "NOK\xa0100.00" in points
    assert 'data-reward-kind="cash"' not in section
