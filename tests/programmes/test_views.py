"""The field staff's pages: who sees and does what (a matrix over every role and page), region scoping,
and each form's bad input answered with a form error and nothing written."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from programmes import services
from programmes.models import BusinessCustomer, Contract, Programme, RegionBudget, SalesUpload
from tests.accounts.factories import UserFactory
from tests.programmes.factories import (
    CONTRACT_REWARDS,
    TIER_ONE,
    approved_contract,
    customer,
    programme_world,
    sales_csv,
)
from wallet.selectors import wallet_balances

pytestmark = pytest.mark.django_db

ROLES = [
    "sales_north",
    "sales_south",
    "head_north",
    "head_south",
    "programme_admin",
    "marketing_admin",
    "finance_admin",
    "outsider",
]
ADMINS = {"programme_admin": 200, "marketing_admin": 200, "finance_admin": 200}
# page → role → status. A contract and a budget of the North region; "outsider" has no role there.
MATRIX = {
    "customers": dict.fromkeys(ROLES[:-1], 200),
    "customer_register": {"sales_north": 200, "sales_south": 200, "head_north": 200, "head_south": 200}
    | dict.fromkeys(ADMINS, 403),
    "contracts": dict.fromkeys(ROLES[:-1], 200),
    "contract_propose": {"sales_north": 200, "sales_south": 200}
    | dict.fromkeys(["head_north", "head_south", *ADMINS], 403),
    "contract": {"sales_north": 200, "sales_south": 404, "head_north": 200, "head_south": 404} | ADMINS,
    "sales_upload": dict.fromkeys(ROLES[:-2], 403) | {"finance_admin": 200},
    "dashboard": {"sales_north": 403, "sales_south": 403, "head_north": 200, "head_south": 200} | ADMINS,
    "budget_edit": dict.fromkeys(ROLES[:-2], 403) | {"finance_admin": 200},
    "programme_create": dict.fromkeys(ROLES[:-1], 403) | {"programme_admin": 200},
    "team": dict.fromkeys(ROLES[:-1], 200),
    "action_rules": dict.fromkeys(ROLES[:-1], 403) | {"marketing_admin": 200},
    "action_rule_create": dict.fromkeys(ROLES[:-1], 403) | {"marketing_admin": 200},
    "master_data": dict.fromkeys(ROLES[:-1], 403) | {"programme_admin": 200},
    "monitoring": dict.fromkeys(ROLES[:-1], 403) | {"programme_admin": 200, "marketing_admin": 200},
    # the contract's customer was registered by sales_north in the North
    "customer_sources": {"sales_north": 200, "sales_south": 404, "head_north": 200, "head_south": 404} | ADMINS,
}
for expected in MATRIX.values():
    expected["outsider"] = 404


@pytest.fixture
def world():
    return programme_world()


def _url(world, page: str, contract: Contract) -> str:
    merchant_id = world.brand_owner.merchant_id
    if page == "contract":
        return reverse("programmes:contract", args=[merchant_id, contract.pk])
    if page == "customer_sources":
        return reverse("programmes:customer_sources", args=[merchant_id, contract.customer_id])
    if page == "budget_edit":
        budget = RegionBudget.objects.get(programme=world.programme, region=world.north)
        return reverse("programmes:budget_edit", args=[merchant_id, budget.pk])
    return reverse(f"programmes:{page}", args=[merchant_id])


@pytest.mark.parametrize("page", sorted(MATRIX))
def test_each_role_reaches_only_the_pages_and_regions_it_may(client, world, page):
    contract = approved_contract(world)
    seen = {}
    for role_name in ROLES:
        user = UserFactory() if role_name == "outsider" else getattr(world, role_name).user
        client.force_login(user)
        seen[role_name] = client.get(_url(world, page, contract)).status_code

    assert seen == MATRIX[page]


def test_anonymous_people_are_sent_to_log_in(client, world):
    response = client.get(reverse("programmes:contracts", args=[world.brand_owner.merchant_id]))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_lists_show_only_the_viewers_region_and_own_customers(client, world):
    north = customer(world, sales=world.sales_north)
    other_north = customer(world, sales=world.sales_north_2)
    south = customer(world, sales=world.sales_south)
    url = reverse("programmes:customers", args=[world.brand_owner.merchant_id])

    client.force_login(world.sales_north.user)
    sales_page = client.get(url).content.decode()
    client.force_login(world.head_south.user)
    head_page = client.get(url).content.decode()
    client.force_login(world.marketing_admin.user)
    admin_page = client.get(url).content.decode()

    assert north.name in sales_page and other_north.name not in sales_page and south.name not in sales_page
    assert south.name in head_page and north.name not in head_page
    assert all(business.name in admin_page for business in (north, other_north, south))


def test_the_dashboard_shows_only_the_heads_regions(client, world):
    client.force_login(world.head_south.user)

    page = client.get(reverse("programmes:dashboard", args=[world.brand_owner.merchant_id])).content.decode()

    assert "South" in page and ">North<" not in page


def test_sales_registers_and_proposes_and_the_head_approves_through_the_pages(client, world):
    merchant_id = world.brand_owner.merchant_id
    client.force_login(world.sales_north.user)
    response = client.post(
        reverse("programmes:customer_register", args=[merchant_id]),
        {
            "name": "Toko Sinar",
            "kind": "wholesaler",
            "code": "WS-77",
            "region": world.north.pk,
            "contact_name": "Sinta",
            "phone": "+4791234500",
        },
    )
    business = BusinessCustomer.objects.get(code="WS-77")
    assert response.status_code == 302

    response = client.post(
        reverse("programmes:contract_propose", args=[merchant_id]),
        {
            "customer": business.pk,
            "programme": world.programme.pk,
            "contract_type": "growth",
            "starts_on": world.today.isoformat(),
            "expires_on": world.programme.ends_on.isoformat(),
        },
    )
    contract = Contract.objects.get(customer=business)
    assert response.status_code == 302

    client.force_login(world.head_north.user)
    client.post(reverse("programmes:contract_approve", args=[merchant_id, contract.pk]))

    contract.refresh_from_db()
    assert contract.status == Contract.Status.APPROVED
    page = client.get(reverse("programmes:contract", args=[merchant_id, contract.pk])).content.decode()
    assert "Approved" in page and "Hanna Head" in page


def test_a_contract_outside_the_period_is_a_form_error(client, world):
    business = customer(world)
    client.force_login(world.sales_north.user)

    response = client.post(
        reverse("programmes:contract_propose", args=[world.brand_owner.merchant_id]),
        {
            "customer": business.pk,
            "programme": world.programme.pk,
            "contract_type": "growth",
            "starts_on": world.today.isoformat(),
            "expires_on": (world.programme.ends_on + datetime.timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 200
    assert "the programme&#x27;s period" in response.content.decode()
    assert not Contract.objects.exists()


def test_a_bad_phone_number_is_a_form_error(client, world):
    client.force_login(world.sales_north.user)

    response = client.post(
        reverse("programmes:customer_register", args=[world.brand_owner.merchant_id]),
        {"name": "X", "kind": "wholesaler", "code": "X1", "region": world.north.pk, "contact_name": "Y", "phone": "12"},
    )

    assert response.status_code == 200
    assert "valid phone number" in response.content.decode()
    assert not BusinessCustomer.objects.exists()


def test_a_sales_region_not_theirs_is_not_offered(client, world):
    client.force_login(world.sales_north.user)

    response = client.post(
        reverse("programmes:customer_register", args=[world.brand_owner.merchant_id]),
        {
            "name": "X",
            "kind": "wholesaler",
            "code": "X1",
            "region": world.south.pk,
            "contact_name": "Y",
            "phone": "+4791234501",
        },
    )

    assert response.status_code == 200
    assert not BusinessCustomer.objects.exists()


def test_the_upload_page_lists_each_bad_row_and_applies_nothing(client, world):
    contract = approved_contract(world)
    client.force_login(world.finance_admin.user)
    content = sales_csv(
        ("UNKNOWN", "LUMI-SOAP", world.today.isoformat(), "5", ""),
        (contract.customer.code, "LUMI-SOAP", world.today.isoformat(), "-5", ""),
    )

    response = client.post(
        reverse("programmes:sales_upload", args=[world.brand_owner.merchant_id]),
        {"file": SimpleUploadedFile("sales.csv", content, content_type="text/csv")},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "unknown customer &#x27;UNKNOWN&#x27;" in page and "quantity -5 must be more than zero" in page
    assert not SalesUpload.objects.exists()


def test_an_upload_reaching_a_tier_pays_the_wallet(client, world):
    contract = approved_contract(world)
    client.force_login(world.finance_admin.user)
    content = sales_csv((contract.customer.code, "LUMI-SOAP", world.today.isoformat(), "100", ""))

    response = client.post(
        reverse("programmes:sales_upload", args=[world.brand_owner.merchant_id]),
        {"file": SimpleUploadedFile("sales.csv", content, content_type="text/csv")},
        follow=True,
    )

    assert "1 sales rows applied" in response.content.decode()
    (balance,) = wallet_balances(user=contract.customer.user)
    assert balance.available == TIER_ONE[1]


def test_a_budget_below_what_is_committed_is_a_form_error(client, world):
    approved_contract(world)
    budget = RegionBudget.objects.get(programme=world.programme, region=world.north)
    client.force_login(world.finance_admin.user)
    url = reverse("programmes:budget_edit", args=[world.brand_owner.merchant_id, budget.pk])

    too_low = client.post(url, {"amount": "100.00"})
    not_a_number = client.post(url, {"amount": "lots"})
    fine = client.post(url, {"amount": "20000.00"})

    assert too_low.status_code == 200 and "already committed" in too_low.content.decode()
    assert not_a_number.status_code == 200 and "Enter an amount" in not_a_number.content.decode()
    assert fine.status_code == 302
    budget.refresh_from_db()
    assert budget.amount_minor == 2_000_000 >= CONTRACT_REWARDS


def test_a_rejection_without_a_reason_is_a_form_error(client, world):
    business = customer(world)
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=world.programme,
        contract_type="growth",
        starts_on=world.today,
        expires_on=world.programme.ends_on,
    )
    client.force_login(world.head_north.user)

    response = client.post(
        reverse("programmes:contract_reject", args=[world.brand_owner.merchant_id, contract.pk]), {"reason": ""}
    )

    assert response.status_code == 200 and "This field is required" in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PROPOSED


def test_the_entry_page_leads_field_staff_to_their_brand_owner(client, world):
    client.force_login(world.head_north.user)

    response = client.get("/programmes/")
    home = client.get(response["Location"])

    assert response["Location"] == reverse("programmes:home", args=[world.brand_owner.merchant_id])
    assert home["Location"] == reverse("programmes:dashboard", args=[world.brand_owner.merchant_id])


def test_a_sales_file_holding_a_card_number_is_refused_whole_without_showing_it(client, world):
    contract = approved_contract(world)
    client.force_login(world.finance_admin.user)
    content = sales_csv((contract.customer.code, "4242 4242 4242 4242", world.today.isoformat(), "100", ""))

    response = client.post(
        reverse("programmes:sales_upload", args=[world.brand_owner.merchant_id]),
        {"file": SimpleUploadedFile("sales.csv", content, content_type="text/csv")},
    )

    assert response.status_code == 200
    assert "4242 4242" not in response.content.decode()
    assert not SalesUpload.objects.exists()


def test_the_wholesaler_sees_their_progress_on_the_wallet_home(client, world):
    contract = approved_contract(world)
    services.sales_file_apply(
        role=world.finance_admin,
        filename="a.csv",
        content=sales_csv((contract.customer.code, "LUMI-SOAP", world.today.isoformat(), "125", "")),
    )
    client.force_login(contract.customer.user)

    page = client.get(reverse("wallet:home")).content.decode()

    assert "Your business programmes" in page
    assert "125 of 250 units · 1 of 2 rewards paid" in page


def test_people_without_contracts_see_no_programme_section(client, world):
    client.force_login(UserFactory())

    assert "Your business programmes" not in client.get(reverse("wallet:home")).content.decode()


def _programme_post(world, **changes):
    data = {
        "name": "Krisp value push",
        "target_kind": "value",
        "starts_on": world.today.isoformat(),
        "ends_on": (world.today + datetime.timedelta(days=30)).isoformat(),
        "brands": [world.other.brand_id],
        "threshold_1": "100000",
        "reward_1": "250.00",
        "threshold_2": "300000",
        "reward_2": "900.00",
        f"budget_{world.north.pk}": "5000.00",
    }
    return {**data, **changes}


def test_the_programme_admin_sets_up_a_programme_with_targets_and_budgets(client, world):
    client.force_login(world.programme_admin.user)

    response = client.post(
        reverse("programmes:programme_create", args=[world.brand_owner.merchant_id]), _programme_post(world)
    )

    assert response.status_code == 302
    programme = Programme.objects.get(name="Krisp value push")
    assert list(programme.tiers.values_list("threshold", "reward_minor")) == [(100_000, 25_000), (300_000, 90_000)]
    assert list(programme.budgets.values_list("region__name", "amount_minor")) == [("North", 500_000)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reward_2": ""}, "Every target needs a reward"),
        ({"reward_1": "abc"}, "Enter an amount like 500.00."),
        ({"threshold_2": "", "reward_2": "9.00"}, "Give the target this reward is for."),
        ({"ends_on": "2000-01-01"}, "must end on or after its first day"),
    ],
)
def test_a_bad_programme_is_a_form_error_and_nothing_is_written(client, world, changes, message):
    client.force_login(world.programme_admin.user)

    response = client.post(
        reverse("programmes:programme_create", args=[world.brand_owner.merchant_id]), _programme_post(world, **changes)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Programme.objects.filter(name="Krisp value push").exists()


def test_the_dashboard_reads_the_same_number_of_queries_whatever_the_number_of_contracts(
    client, world, django_assert_max_num_queries
):
    approved_contract(world)
    client.force_login(world.finance_admin.user)
    url = reverse("programmes:dashboard", args=[world.brand_owner.merchant_id])
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for _ in range(4):
        approved_contract(world)
    for _ in range(2):  # the South budget holds two contracts
        approved_contract(world, sales=world.sales_south)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)

    assert response.status_code == 200


def test_the_programme_admin_gives_roles_and_nobody_else_can(client, world):
    newcomer = UserFactory(email="new.sales@example.com")
    url = reverse("programmes:team", args=[world.brand_owner.merchant_id])
    data = {"email": "NEW.sales@example.com", "role": "sales", "regions": [world.south.pk]}

    client.force_login(world.head_north.user)
    assert client.post(url, data).status_code == 403
    client.force_login(world.programme_admin.user)
    two_regions = client.post(url, {**data, "regions": [world.south.pk, world.north.pk]})
    nobody = client.post(url, {**data, "email": "nobody@example.com"})
    myself = client.post(url, {**data, "email": world.programme_admin.user.email})
    fine = client.post(url, data)

    assert "exactly one region" in two_regions.content.decode()
    assert "Nobody with an account" in nobody.content.decode()
    assert "your own role" in myself.content.decode()
    assert fine.status_code == 302
    granted = newcomer.field_roles.get()
    assert granted.role == "sales" and list(granted.regions.all()) == [world.south]
