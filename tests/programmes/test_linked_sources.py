"""Achievement from purchases without products (issue 20): card purchases at a business customer's linked
shops and paid Stripe invoices of its linked Stripe customer count towards value targets — once per
purchase, lowered by refunds, never towards a volume target, and not from shops that are not linked."""

import datetime
import itertools
import json

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from cashback import inbox
from cashback.models import Fact
from merchants.models import CustomerLink
from programmes import linked_sources, services
from programmes.errors import InvalidSourceLinkError, RoleNotAllowedError, SourceAlreadyLinkedError
from programmes.linked_sources import linked_purchase_apply
from programmes.models import Contract, ContractEvent, PurchaseValue, TierReward
from tests.accounts.factories import CardFactory, UserFactory
from tests.campaigns.factories import LocationFactory
from tests.merchants.factories import MerchantFactory
from tests.programmes.factories import approved_contract, programme_world
from tests.webhooks import visa_event

pytestmark = pytest.mark.django_db

VALUE_TIER = (100_000, 40_000)  # NOK 1 000 sold → NOK 400
_ids = itertools.count(1)


@pytest.fixture
def world():
    return programme_world()


def value_contract(world, business):
    today = timezone.localdate()
    programme = services.programme_create(
        role=world.programme_admin,
        name="Lumi value",
        target_kind="value",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
        tiers=[services.TierSpec(*VALUE_TIER)],
        brands=[world.soap.brand],
        budgets={world.north: 1_000_000, world.south: 100_000},
    )
    contract = services.contract_propose(
        role=world.sales_north,
        customer=business,
        programme=programme,
        contract_type="tactical",
        starts_on=programme.starts_on,
        expires_on=programme.ends_on,
    )
    return services.contract_approve(role=world.head_north, contract=contract)


@pytest.fixture
def contracts(world):
    volume = approved_contract(world)  # a volume programme's contract of the same customer
    return value_contract(world, volume.customer), volume


@pytest.fixture
def shop():
    return MerchantFactory(display_name="Toko shop", currency="NOK")


def card_purchase(shop, amount_minor, *, kind="clearing", original="", external_id=None):
    external_id = external_id or f"card-{next(_ids)}"
    return campaign_services.purchase_event_apply(
        source="card",
        event_id=f"ev-{next(_ids)}",
        kind=kind,
        external_id=external_id,
        original_external_id=original,
        amount_minor=amount_minor,
        currency="NOK",
        occurred_at=timezone.now() - datetime.timedelta(minutes=5),
        user=UserFactory(),
        merchant=shop,
    )


def test_a_card_purchase_at_a_linked_shop_counts_for_value_not_volume_once(
    world, contracts, shop, django_capture_on_commit_callbacks
):
    value, volume = contracts
    linked_sources.source_link_shop(
        role=world.programme_admin, customer=value.customer, organisation_number=shop.organisation_number
    )
    with django_capture_on_commit_callbacks(execute=True):
        purchase = card_purchase(shop, 120_000)
    value.refresh_from_db()
    volume.refresh_from_db()
    assert value.achieved == 120_000
    assert volume.achieved == 0
    assert TierReward.objects.filter(contract=value).count() == 1
    assert value.paid_minor == VALUE_TIER[1]

    # The fact delivered again: nothing changes, nothing paid twice.
    for _ in range(2):
        assert linked_purchase_apply(purchase_id=purchase.pk, user_id=purchase.user_id, merchant_id=shop.pk) == 0
    assert PurchaseValue.objects.count() == 1
    assert TierReward.objects.filter(contract=value).count() == 1
    value.refresh_from_db()
    assert value.achieved == 120_000


def test_a_refund_lowers_the_achievement_and_a_reversal_removes_it(
    world, contracts, shop, django_capture_on_commit_callbacks
):
    value, _ = contracts
    linked_sources.source_link_shop(
        role=world.sales_north, customer=value.customer, organisation_number=shop.organisation_number
    )
    with django_capture_on_commit_callbacks(execute=True):
        purchase = card_purchase(shop, 50_000, external_id="card-refunded")
    value.refresh_from_db()
    assert value.achieved == 50_000
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.purchase_event_apply(
            source="card",
            event_id="ev-refund-1",
            kind="refund",
            external_id="refund-1",
            original_external_id="card-refunded",
            amount_minor=20_000,
            currency="NOK",
            occurred_at=timezone.now(),
            user=purchase.user,
            merchant=shop,
        )
    value.refresh_from_db()
    assert value.achieved == 30_000
    assert value.events.filter(action=ContractEvent.Action.ACHIEVEMENT).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.purchase_event_apply(
            source="card",
            event_id="ev-reversal-1",
            kind="reversal",
            external_id="reversal-1",
            original_external_id="card-refunded",
            amount_minor=50_000,
            currency="NOK",
            occurred_at=timezone.now(),
            user=purchase.user,
            merchant=shop,
        )
    value.refresh_from_db()
    assert value.achieved == 0
    assert not TierReward.objects.filter(contract=value).exists()


def test_purchases_at_shops_that_are_not_linked_count_nowhere(
    world, contracts, shop, django_capture_on_commit_callbacks
):
    value, _ = contracts
    other = MerchantFactory(currency="NOK")
    linked_sources.source_link_shop(
        role=world.programme_admin, customer=value.customer, organisation_number=shop.organisation_number
    )
    with django_capture_on_commit_callbacks(execute=True):
        card_purchase(other, 500_000)
    value.refresh_from_db()
    assert value.achieved == 0
    assert not PurchaseValue.objects.exists()


def test_an_unlinked_shop_stops_counting_and_what_counted_stays(
    world, contracts, shop, django_capture_on_commit_callbacks
):
    value, _ = contracts
    link = linked_sources.source_link_shop(
        role=world.programme_admin, customer=value.customer, organisation_number=shop.organisation_number
    )
    with django_capture_on_commit_callbacks(execute=True):
        card_purchase(shop, 10_000)
    linked_sources.source_unlink(role=world.programme_admin, link=link)
    with django_capture_on_commit_callbacks(execute=True):
        purchase = campaign_services.purchase_event_apply(
            source="card",
            event_id="ev-later",
            kind="clearing",
            external_id="card-later",
            amount_minor=70_000,
            currency="NOK",
            occurred_at=timezone.now() + datetime.timedelta(seconds=1),
            user=UserFactory(),
            merchant=shop,
        )
    assert purchase.pk
    value.refresh_from_db()
    assert value.achieved == 10_000
    actions = list(value.events.values_list("action", flat=True))
    assert ContractEvent.Action.SOURCE_LINKED in actions and ContractEvent.Action.SOURCE_UNLINKED in actions


def test_a_paid_stripe_invoice_of_the_linked_customer_counts(world, contracts, django_capture_on_commit_callbacks):
    value, volume = contracts
    merchant = world.brand_owner.merchant
    linked_sources.source_link_stripe(
        role=world.programme_admin, customer=value.customer, stripe_customer_id="cus_TokoMakmur01"
    )
    assert CustomerLink.objects.get(merchant=merchant, external_id="cus_TokoMakmur01").user == value.customer.user
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.purchase_event_apply(
            source="stripe",
            event_id="evt_1",
            kind="clearing",
            external_id="in_1Toko",
            amount_minor=100_000,
            currency="NOK",
            occurred_at=timezone.now() - datetime.timedelta(hours=1),
            user=value.customer.user,
            merchant=merchant,
        )
    value.refresh_from_db()
    volume.refresh_from_db()
    assert value.achieved == 100_000
    assert volume.achieved == 0
    assert value.paid_minor == VALUE_TIER[1]
    row = PurchaseValue.objects.get()
    assert (row.source, row.reference) == ("stripe_invoice", "in_1Toko")


def test_a_stripe_invoice_of_a_customer_not_linked_counts_nowhere(world, contracts, django_capture_on_commit_callbacks):
    value, _ = contracts
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.purchase_event_apply(
            source="stripe",
            event_id="evt_2",
            kind="clearing",
            external_id="in_2Toko",
            amount_minor=100_000,
            currency="NOK",
            occurred_at=timezone.now() - datetime.timedelta(hours=1),
            user=value.customer.user,
            merchant=world.brand_owner.merchant,
        )
    value.refresh_from_db()
    assert value.achieved == 0


def test_linking_refuses_bad_input_and_other_peoples_customers(world, contracts, shop):
    value, _ = contracts
    customer = value.customer
    with pytest.raises(InvalidSourceLinkError):
        linked_sources.source_link_shop(role=world.programme_admin, customer=customer, organisation_number="12")
    with pytest.raises(InvalidSourceLinkError):
        linked_sources.source_link_shop(
            role=world.programme_admin,
            customer=customer,
            organisation_number=world.brand_owner.merchant.organisation_number,
        )
    with pytest.raises(InvalidSourceLinkError):
        linked_sources.source_link_stripe(role=world.programme_admin, customer=customer, stripe_customer_id="acct_1")
    with pytest.raises(RoleNotAllowedError):  # another sales person's customer; a finance admin
        linked_sources.source_link_shop(
            role=world.sales_north_2, customer=customer, organisation_number=shop.organisation_number
        )
    with pytest.raises(RoleNotAllowedError):
        linked_sources.source_link_shop(
            role=world.finance_admin, customer=customer, organisation_number=shop.organisation_number
        )
    linked_sources.source_link_shop(
        role=world.programme_admin, customer=customer, organisation_number=shop.organisation_number
    )
    with pytest.raises(SourceAlreadyLinkedError):
        linked_sources.source_link_shop(
            role=world.programme_admin, customer=customer, organisation_number=shop.organisation_number
        )
    CustomerLink.objects.create(
        merchant=world.brand_owner.merchant,
        source="stripe",
        external_id="cus_Someone1",
        user=UserFactory(),
        via="email_match",
    )
    with pytest.raises(SourceAlreadyLinkedError):
        linked_sources.source_link_stripe(
            role=world.programme_admin, customer=customer, stripe_customer_id="cus_Someone1"
        )
    assert Contract.objects.get(pk=value.pk).events.filter(action="source_linked").count() == 1


def test_card_purchases_at_shops_nobody_linked_announce_nothing(world, contracts, shop):
    card_purchase(shop, 10_000)
    assert not Fact.objects.filter(kind="purchase_recorded").exists()


def test_linking_a_shop_counts_what_it_already_recorded_within_the_contract(
    world, contracts, shop, django_capture_on_commit_callbacks
):
    value, _ = contracts
    card_purchase(shop, 60_000)
    card_purchase(shop, 50_000)
    with django_capture_on_commit_callbacks(execute=True):  # the catch-up task runs after the commit
        link = linked_sources.source_link_shop(
            role=world.programme_admin, customer=value.customer, organisation_number=shop.organisation_number
        )
    value.refresh_from_db()
    assert value.achieved == 110_000
    assert TierReward.objects.filter(contract=value).count() == 1
    # Twice (a retried task): nothing more.
    assert linked_sources.source_link_catch_up(link_id=link.pk) == 2
    value.refresh_from_db()
    assert value.achieved == 110_000
    assert TierReward.objects.filter(contract=value).count() == 1


def test_card_clearings_at_a_linked_shop_count_when_the_worker_processes_them_as_a_batch(
    world, contracts, shop, settings, django_capture_on_commit_callbacks
):
    """The worker's batch path (issue 19: one transaction, facts written at the batch's end) tells
    programmes of each clearing at a watched shop, as the one-event path does."""
    settings.INBOX_ENQUEUE_ON_RECEIPT = False  # the test processes the stored events itself
    value, volume = contracts
    linked_sources.source_link_shop(
        role=world.programme_admin, customer=value.customer, organisation_number=shop.organisation_number
    )
    location = LocationFactory(merchant=shop)
    cards = [CardFactory() for _ in range(3)]
    at = timezone.now() - datetime.timedelta(minutes=10)
    ids = []
    for n, card in enumerate(cards):
        data = {
            "id": f"txn_linked_batch_{n}",
            "amount": f"{300 + n}.00",
            "datetime": at.isoformat(),
            "card": {"token": card.network_token, "firstNumbers": "424242", "lastNumbers": "4242"},
            "merchant": {"id": location.network_merchant_id, "name": "Toko shop"},
            "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
        }
        payload = visa_event("transaction.clearing", id=f"evt_linked_batch_{n}", data=data)
        stored = inbox.event_receive(
            source="visa", event_id=payload["id"], event_type=payload["type"], payload=json.dumps(payload)
        )
        ids.append(stored.pk)

    with django_capture_on_commit_callbacks(execute=True):
        assert inbox.events_process(event_ids=ids) == ["processed"] * 3
    value.refresh_from_db()
    volume.refresh_from_db()
    assert value.achieved == 300_00 + 301_00 + 302_00
    assert volume.achieved == 0
    assert PurchaseValue.objects.count() == 3
    assert TierReward.objects.filter(contract=value).count() == 0  # NOK 903 < the NOK 1 000 tier
