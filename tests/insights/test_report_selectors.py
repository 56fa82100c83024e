"""The reports' figures: campaign KPIs per offer with totals, and who earned (groups under 5 hidden)."""

from datetime import date

import pytest

from campaigns.models import Purchase, RewardStatus
from insights.report_selectors import ReportPeriod, campaign_kpis, customer_pseudonym, demographics
from insights.small_groups import CellState
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import MerchantFactory, OfferFactory, TierFactory
from tests.insights.report_data import at, earning, purchase, reward

pytestmark = pytest.mark.django_db

FEBRUARY = ReportPeriod(start=date(2026, 2, 1), end=date(2026, 2, 28))


@pytest.fixture
def shop():
    merchant = MerchantFactory()
    return {
        "merchant": merchant,
        "a": OfferFactory(merchant=merchant, title="Ten percent"),
        "b": OfferFactory(merchant=merchant, title="For charity"),
    }


def test_kpis_per_offer_and_totals(shop):
    a, b = shop["a"], shop["b"]
    u1, u2, u3, u4, u5 = UserFactory.create_batch(5)
    # u1 bought in January (before the period): returning in February.
    earning(offer=a, user=u1, when=at("2026-01-05"))
    earning(offer=a, user=u1, when=at("2026-02-10"), amount=20_000, cashback=2_000)
    # u2: new, part refunded: revenue 10 000 - 4 000; the reward was reduced to 600.
    partly = purchase(
        merchant=a.merchant,
        user=u2,
        when=at("2026-02-11"),
        amount=10_000,
        status=Purchase.Status.PARTLY_REFUNDED,
        refunded=4_000,
    )
    reward(offer=a, purchase=partly, amount=600)
    # u3: a reversed purchase counts nothing, the next one makes u3 new.
    gone = purchase(merchant=a.merchant, user=u3, when=at("2026-02-12"), status=Purchase.Status.REVERSED)
    reward(offer=a, purchase=gone, amount=0, status=RewardStatus.REVERSED)
    earning(offer=a, user=u3, when=at("2026-02-13"), amount=5_000, cashback=500)
    # u4: offer b, the reward goes to charity.
    given = purchase(merchant=b.merchant, user=u4, when=at("2026-02-14"), amount=30_000)
    reward(offer=b, purchase=given, amount=3_000, beneficiary="charity")
    # u5: only authorised so far: no purchase or revenue yet, but its reward is a cost.
    waiting = purchase(merchant=b.merchant, user=u5, when=at("2026-02-15"), status=Purchase.Status.AUTHORISED)
    reward(offer=b, purchase=waiting, amount=1_000)
    # Outside the period (1 March, 00:30 in Oslo) and at another merchant: not counted.
    earning(offer=a, user=u1, when=at("2026-03-01", hour=0))
    earning(offer=OfferFactory(), user=u1, when=at("2026-02-10"))

    report = campaign_kpis(merchant_id=shop["merchant"].pk, period=FEBRUARY)

    rows = {row.label: row for row in report.rows}
    ten = rows["Ten percent"]
    assert (ten.purchases, ten.revenue_minor, ten.customers, ten.new_customers, ten.returning_customers) == (
        3,
        31_000,
        3,
        2,
        1,
    )
    assert (ten.cost_minor, ten.charity_minor) == (3_100, 0)
    assert str(ten.return_on_cashback) == "10.00"
    charity = rows["For charity"]
    assert (charity.purchases, charity.revenue_minor, charity.customers, charity.new_customers) == (1, 30_000, 1, 1)
    assert (charity.cost_minor, charity.charity_minor) == (4_000, 3_000)
    [total] = report.totals
    assert (total.purchases, total.revenue_minor, total.customers, total.new_customers) == (4, 61_000, 4, 3)
    assert (total.cost_minor, total.charity_minor) == (7_100, 3_000)
    # Fewer than 5 customers: never printed as a count; with two offers the total's count is hidden too.
    assert ten.customer_cells["customers"].text == "fewer than 5"
    assert ten.customer_cells["new"].text == "fewer than 5"
    assert report.total_customers_hidden
    assert total.customer_cells["customers"].count is None


def test_a_purchase_two_offers_rewarded_counts_once_in_the_totals(shop):
    a, b = shop["a"], shop["b"]
    for user in UserFactory.create_batch(6):
        made = earning(offer=a, user=user, when=at("2026-02-03"), amount=10_000, cashback=1_000)
        reward(offer=b, purchase=made, amount=500)
    report = campaign_kpis(merchant_id=shop["merchant"].pk, period=FEBRUARY)
    assert [row.purchases for row in report.rows] == [6, 6]
    [total] = report.totals
    assert (total.purchases, total.revenue_minor, total.cost_minor) == (6, 60_000, 9_000)
    assert total.customer_cells["customers"].text == "6"
    # 6 new and 0 returning: the 0 is "fewer than 5", so the 6 is hidden (else 6 - 6 = 0 gives nothing away,
    # but the rule does not print a split whose small part could be pinned).
    assert total.customer_cells["returning"].state == CellState.SMALL


def test_demographics_hide_groups_under_five(shop):
    a = shop["a"]
    gold = TierFactory(name="Gold", rank=3)
    people = (
        [UserFactory(birth_year=1990, gender="female", city="Oslo") for _ in range(7)]
        + [UserFactory(birth_year=1980, gender="male", city="oslo ") for _ in range(6)]
        + [UserFactory(birth_year=1950, gender="other", city="Bergen") for _ in range(2)]
        + [UserFactory(birth_year=None, gender="", city="") for _ in range(5)]
    )
    from django.utils import timezone

    from campaigns.models import CustomerTier

    for person in people[:8]:
        CustomerTier.objects.create(user=person, tier=gold, computed_at=timezone.now())
    for person in people:
        earning(offer=a, user=person, when=at("2026-02-20"))

    result = demographics(merchant_id=shop["merchant"].pk, period=FEBRUARY)

    assert result.customers.text == "20"
    by_title = {
        dimension.title: {cell.label: cell.text for cell in dimension.split.cells} for dimension in result.dimensions
    }
    # Age at the period's end (2026): 36, 46, 76; 5 not given.
    assert by_title["Age"]["35 to 44"] == "7"
    assert by_title["Age"]["45 to 54"] == "6"
    assert by_title["Age"]["65 and over"] == "fewer than 5"
    # Four empty bands are "fewer than 5" too, so the 2 over 65 cannot be told from the total: no second group
    # needs hiding here (the rule's own tests cover when one does).
    assert by_title["Age"]["Not given"] == "5"
    assert by_title["Gender"]["Other"] == "fewer than 5"
    assert by_title["City"]["Oslo"] == "13"  # "Oslo" and "oslo " are one place
    assert "Bergen" not in by_title["City"]  # too few to be named: in "Other places"
    assert by_title["City"]["Other places"] == "fewer than 5"
    assert by_title["Tier"] == {"Gold": "8", "No tier": "12"}
    for cells in by_title.values():
        for text in cells.values():
            assert text in ("fewer than 5", "hidden") or int(text) >= 5


def test_the_customer_pseudonym_is_stable_per_merchant_and_differs_between_merchants():
    assert customer_pseudonym(merchant_id=1, user_id=7) == customer_pseudonym(merchant_id=1, user_id=7)
    assert customer_pseudonym(merchant_id=1, user_id=7) != customer_pseudonym(merchant_id=2, user_id=7)
    assert customer_pseudonym(merchant_id=1, user_id=7).startswith("C-")
