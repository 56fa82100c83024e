"""Reads behind a merchant's reports (F-P3): campaign KPIs per offer, who the customers are, and the
transactions. Straight from purchases and rewards, on the database ``settings.INSIGHTS_DATABASE``
names (a read replica when set). Definitions: docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, Trim
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from accounts.models import User
from campaigns.models import Offer, Purchase, Reward, RewardKind
from insights.small_groups import SMALL_GROUP, Cell, CellState, ProtectedSplit, people_count, protect_split
from wallet.money import minor_to_decimal_string

CHARITY = "charity"
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("Under 18", 0, 17),
    ("18 to 24", 18, 24),
    ("25 to 34", 25, 34),
    ("35 to 44", 35, 44),
    ("45 to 54", 45, 54),
    ("55 to 64", 55, 64),
    ("65 and over", 65, 200),
)
NOT_GIVEN = "Not given"
OTHER_CITIES = "Other places"
NO_TIER = "No tier"


def _shown(split: Mapping[Any, int]) -> dict[str, int]:
    """A split's keys as a person reads them, in the active language (the constants above are English keys)."""
    names = {NOT_GIVEN: gettext("Not given"), OTHER_CITIES: gettext("Other places"), NO_TIER: gettext("No tier")}
    return {names.get(str(key), str(key)): count for key, count in split.items()}


def report_database() -> str:
    """The alias reports read from: ``settings.INSIGHTS_DATABASE`` (a replica when configured)."""
    return getattr(settings, "INSIGHTS_DATABASE", "default")


@dataclass(frozen=True)
class ReportPeriod:
    """Days ``start``..``end`` (both included), in ``settings.TIME_ZONE``."""

    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))

    @property
    def ends_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _net_revenue() -> Case:
    """Revenue of a purchase: cleared amount less refunds; reversed or never cleared counts 0."""
    return Case(
        When(Q(reversed=True) | Q(cleared_minor__isnull=True), then=Value(0)),
        default=F("amount_minor") - F("refunded_minor"),
        output_field=IntegerField(),
    )


def _first_purchase_of(merchant_id: int, user_ref: str) -> Subquery:
    """The id of the customer's first counted purchase at the merchant (cleared, not reversed)."""
    return Subquery(
        Purchase.objects.filter(
            merchant_id=merchant_id, user_id=OuterRef(user_ref), cleared_minor__isnull=False, reversed=False
        )
        .order_by("occurred_at", "id")
        .values("id")[:1]
    )


def _counted_purchases(merchant_id: int, period: ReportPeriod) -> Q:
    """Purchases the KPIs count: the merchant's, in the period, cleared and not reversed."""
    return Q(
        merchant_id=merchant_id,
        occurred_at__gte=period.starts_at,
        occurred_at__lt=period.ends_before,
        cleared_minor__isnull=False,
        reversed=False,
    )


# --- Campaign KPIs ---------------------------------------------------------------------------


@dataclass
class KpiRow:
    label: str
    currency: str
    offer_id: int | None = None
    purchases: int = 0
    revenue_minor: int = 0
    customers: int = 0
    new_customers: int = 0
    cost_minor: int = 0
    charity_minor: int = 0
    customer_cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def returning_customers(self) -> int:
        return self.customers - self.new_customers

    @property
    def return_on_cashback(self) -> Decimal | None:
        """Revenue per 1 of cashback cost (2 decimals), or None without cost."""
        if self.cost_minor <= 0:
            return None
        return (Decimal(self.revenue_minor) / Decimal(self.cost_minor)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def money(self, minor: int) -> str:
        return minor_to_decimal_string(minor, self.currency)

    def protect_customers(self, *, hide_total: bool = False) -> None:
        """Customers, new and returning as printable cells (docs/reports.md: groups under 5).

        ``hide_total``: the customer count must not be printed (it would let another one be worked
        out); its split is then protected as a split whose total nobody knows.
        """
        total = people_count(self.customers)
        if total.count is None:
            # Fewer than 5 in all: both parts are too.
            small = Cell(label="", state=CellState.SMALL, count=None)
            self.customer_cells = {"customers": total, "new": small, "returning": small}
            return
        if hide_total:
            total = Cell(label="", state=CellState.HIDDEN, count=None)
        split = protect_split(
            {"new": self.new_customers, "returning": self.returning_customers}, total_known=not hide_total
        )
        if split.withheld:
            hidden = Cell(label="", state=CellState.HIDDEN, count=None)
            self.customer_cells = {"customers": total, "new": hidden, "returning": hidden}
        else:
            self.customer_cells = {"customers": total, **{cell.label: cell for cell in split.cells}}


@dataclass
class CampaignReport:
    period: ReportPeriod
    rows: list[KpiRow]
    totals: list[KpiRow]  # one per currency
    # The totals' customer count is not printed (see campaign_kpis); the demographics then hide theirs.
    total_customers_hidden: bool = False


def campaign_kpis(*, merchant_id: int, period: ReportPeriod) -> CampaignReport:
    """Per offer of the merchant, for purchases in ``period``: purchases, revenue, customers (new /
    returning), cashback cost and charity rewards; and totals per currency. Five queries, whatever
    the number of offers or purchases."""
    db = report_database()
    counted = Reward.objects.using(db).filter(
        kind=RewardKind.OFFER, purchase__in=Purchase.objects.filter(_counted_purchases(merchant_id, period))
    )
    per_offer = (
        counted.annotate(first_id=_first_purchase_of(merchant_id, "purchase__user_id"))
        .values("offer_id", "purchase__currency")
        .annotate(
            purchases=Count("purchase_id", distinct=True),
            # One offer reward per purchase (a constraint), so this sums each purchase once.
            revenue=Sum(F("purchase__amount_minor") - F("purchase__refunded_minor")),
            customers=Count("purchase__user_id", distinct=True),
            new_customers=Count("purchase__user_id", distinct=True, filter=Q(purchase_id=F("first_id"))),
        )
        .order_by()
    )
    # Cost counts every reward of the offer on the day of its purchase (a challenge bonus or a monthly
    # credit, which have none, on the day it was made), net of reversals and refunds.
    costs = (
        Reward.objects.using(db)
        .filter(offer__merchant_id=merchant_id)
        .annotate(day_at=Coalesce("purchase__occurred_at", "created_at"))
        .filter(day_at__gte=period.starts_at, day_at__lt=period.ends_before)
        .values("offer_id", "currency")
        .annotate(cost=Sum("amount_minor"), charity=Sum("amount_minor", filter=Q(beneficiary=CHARITY)))
        .order_by()
    )
    rows: dict[tuple[int, str], KpiRow] = {}
    for item in per_offer:
        key = (item["offer_id"], item["purchase__currency"])
        rows[key] = KpiRow(
            label="",
            currency=key[1],
            offer_id=key[0],
            purchases=item["purchases"],
            revenue_minor=item["revenue"] or 0,
            customers=item["customers"],
            new_customers=item["new_customers"],
        )
    for cost in costs:
        key = (cost["offer_id"], cost["currency"])
        row = rows.setdefault(key, KpiRow(label="", currency=key[1], offer_id=key[0]))
        row.cost_minor = cost["cost"] or 0
        row.charity_minor = cost["charity"] or 0
    titles = dict(Offer.objects.using(db).filter(pk__in={key[0] for key in rows}).values_list("pk", "title"))
    for (offer_id, _currency), row in rows.items():
        row.label = titles.get(offer_id, f"Offer {offer_id}")
    ordered = sorted(rows.values(), key=lambda row: (row.currency, -row.revenue_minor, row.label))
    totals = _kpi_totals(merchant_id=merchant_id, period=period, rows=ordered)
    # The totals count distinct customers over overlapping offers: with an offer's count hidden, the
    # total less the other offers' counts could pin it, so the total's count is not printed then.
    hide_total = len(ordered) > 1 and any(row.customers < SMALL_GROUP for row in ordered)
    for row in ordered:
        row.protect_customers()
    for total in totals:
        total.protect_customers(hide_total=hide_total)
    return CampaignReport(period=period, rows=ordered, totals=totals, total_customers_hidden=hide_total)


def _kpi_totals(*, merchant_id: int, period: ReportPeriod, rows: list[KpiRow]) -> list[KpiRow]:
    """Totals per currency over distinct purchases (a purchase two offers rewarded counts once)."""
    db = report_database()
    earned = Reward.objects.filter(purchase_id=OuterRef("pk"), kind=RewardKind.OFFER)
    purchases = (
        Purchase.objects.using(db)
        .filter(_counted_purchases(merchant_id, period))
        .filter(Exists(earned))
        .annotate(first_id=_first_purchase_of(merchant_id, "user_id"))
        .values("currency")
        .annotate(
            purchases=Count("id"),
            revenue=Sum(_net_revenue()),
            customers=Count("user_id", distinct=True),
            new_customers=Count("user_id", distinct=True, filter=Q(id=F("first_id"))),
        )
        .order_by("currency")
    )
    totals = {
        item["currency"]: KpiRow(
            label="Total",
            currency=item["currency"],
            purchases=item["purchases"],
            revenue_minor=item["revenue"] or 0,
            customers=item["customers"],
            new_customers=item["new_customers"],
        )
        for item in purchases
    }
    for row in rows:
        total = totals.setdefault(row.currency, KpiRow(label="Total", currency=row.currency))
        total.cost_minor += row.cost_minor
        total.charity_minor += row.charity_minor
    return [totals[currency] for currency in sorted(totals)]


# --- Who the customers are ---------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    key: str
    title: str
    split: ProtectedSplit
    note: str = ""


@dataclass(frozen=True)
class Demographics:
    period: ReportPeriod
    customers: Cell
    dimensions: list[Dimension]


def _earning_customers(merchant_id: int, period: ReportPeriod) -> QuerySet[User]:
    """The people whose counted purchases in the period earned from one of the merchant's offers: the
    same people as the KPI totals' customers."""
    db = report_database()
    purchases = Purchase.objects.filter(_counted_purchases(merchant_id, period)).filter(
        Exists(Reward.objects.filter(purchase_id=OuterRef("pk"), kind=RewardKind.OFFER))
    )
    return User.objects.using(db).filter(pk__in=purchases.values("user_id"))


def _age_band() -> Case:
    return Case(
        *[When(age__gte=low, age__lte=high, then=Value(label)) for label, low, high in AGE_BANDS],
        default=Value(NOT_GIVEN),
    )


def demographics(*, merchant_id: int, period: ReportPeriod, total_known: bool = True) -> Demographics:
    """Age band (from birth year, at the period's end), gender, city and current tier of the customers
    who earned in the period, every group under 5 protected (insights.small_groups). Five queries."""
    people = _earning_customers(merchant_id, period)
    total = people.count()
    ages = dict.fromkeys([label for label, _, _ in AGE_BANDS] + [NOT_GIVEN], 0)
    by_age = (
        people.annotate(age=Value(period.end.year) - F("birth_year"))
        .annotate(band=_age_band())
        .values("band")
        .annotate(n=Count("id"))
        .order_by()
    )
    for band in by_age:
        ages[band["band"]] += band["n"]
    genders = {label: 0 for value, label in User.Gender.choices} | {NOT_GIVEN: 0}
    gender_labels = dict(User.Gender.choices)
    for gender in people.values("gender").annotate(n=Count("id")).order_by():
        genders[gender_labels.get(gender["gender"], NOT_GIVEN)] += gender["n"]
    cities: dict[str, int] = {}
    other, not_given = 0, 0
    for place in people.annotate(place=Lower(Trim("city"))).values("place").annotate(n=Count("id")).order_by("-n"):
        if not place["place"]:
            not_given += place["n"]
        elif place["n"] < 5:
            # Places with few customers are named nowhere: they count in "Other places".
            other += place["n"]
        else:
            cities[place["place"].title()] = place["n"]
    cities |= {OTHER_CITIES: other, NOT_GIVEN: not_given}
    tiers: dict[str, int] = {}
    for item in (
        people.values("customer_tier__tier__name", "customer_tier__tier__rank")
        .annotate(n=Count("id"))
        .order_by("-customer_tier__tier__rank")
    ):
        name = item["customer_tier__tier__name"] or NO_TIER
        tiers[name] = tiers.get(name, 0) + item["n"]
    dimensions = [
        Dimension(
            "age",
            gettext("Age"),
            protect_split(_shown(ages), total_known=total_known),
            gettext("From the birth year people give."),
        ),
        Dimension("gender", gettext("Gender"), protect_split(_shown(genders), total_known=total_known)),
        Dimension(
            "city",
            gettext("City"),
            protect_split(_shown(cities), total_known=total_known),
            gettext("The city in people's profile."),
        ),
        Dimension(
            "tier", gettext("Tier"), protect_split(_shown(tiers), total_known=total_known), gettext("Their tier today.")
        ),
    ]
    customers = people_count(total)
    if not total_known and customers.count is not None:
        customers = Cell(label="", state=CellState.HIDDEN, count=None)
    return Demographics(period=period, customers=customers, dimensions=dimensions)


# --- Transactions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransactionFilters:
    period: ReportPeriod
    location_id: int | None = None
    offer_id: int | None = None
    status: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "location_id": self.location_id,
            "offer_id": self.offer_id,
            "status": self.status,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TransactionFilters:
        return cls(
            period=ReportPeriod(start=date.fromisoformat(data["start"]), end=date.fromisoformat(data["end"])),
            location_id=data.get("location_id"),
            offer_id=data.get("offer_id"),
            status=data.get("status") or "",
        )


def transactions(*, merchant_id: int, filters: TransactionFilters) -> QuerySet[Purchase]:
    """The merchant's purchases matching ``filters``, newest first, with shop and rewards loaded in a
    fixed number of queries (the rewards and their offers in one prefetch)."""
    db = report_database()
    queryset = Purchase.objects.using(db).filter(
        merchant_id=merchant_id,
        occurred_at__gte=filters.period.starts_at,
        occurred_at__lt=filters.period.ends_before,
    )
    if filters.location_id is not None:
        queryset = queryset.filter(location_id=filters.location_id)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.offer_id is not None:
        queryset = queryset.filter(Exists(Reward.objects.filter(purchase_id=OuterRef("pk"), offer_id=filters.offer_id)))
    rewards = (
        Reward.objects.using(db)
        .select_related("offer")
        .only("id", "purchase_id", "amount_minor", "currency", "status", "beneficiary", "offer__id", "offer__title")
        .order_by("id")
    )
    return (
        queryset.select_related("location")
        .only(
            "id",
            "source",
            "external_id",
            "user_id",
            "merchant_id",
            "amount_minor",
            "refunded_minor",
            "currency",
            "occurred_at",
            "status",
            "location__id",
            "location__name",
        )
        .prefetch_related(Prefetch("rewards", queryset=rewards))
        .order_by("-occurred_at", "-id")
    )


def customer_pseudonym(*, merchant_id: int, user_id: int | None) -> str:
    """A stable name for a customer at one merchant that says nothing about them and differs between
    merchants (a keyed hash), so two merchants cannot match their customers."""
    if user_id is None:
        return "—"
    digest = salted_hmac("insights.customer-pseudonym", f"{merchant_id}:{user_id}").hexdigest()
    return f"C-{digest[:10].upper()}"


@dataclass(frozen=True)
class TransactionRow:
    occurred_at: datetime
    reference: str
    status: str
    status_label: str
    amount: str
    refunded: str
    currency: str
    shop: str
    offers: str
    reward: str
    reward_status: str
    customer: str

    CSV_HEADER = (
        "time",
        "reference",
        "status",
        "amount",
        "refunded",
        "currency",
        "shop",
        "offers",
        "reward",
        "reward_status",
        "customer",
    )

    def csv_cells(self) -> list[str]:
        local = self.occurred_at.astimezone(ZoneInfo(settings.TIME_ZONE))
        return [
            local.isoformat(timespec="seconds"),
            self.reference,
            self.status,
            self.amount,
            self.refunded,
            self.currency,
            self.shop,
            self.offers,
            self.reward,
            self.reward_status,
            self.customer,
        ]


def transaction_row(purchase: Purchase, *, merchant_id: int) -> TransactionRow:
    """What a report shows of one purchase (its rewards prefetched): never the customer's name, e-mail
    or card — a pseudonym only."""
    rewards = list(purchase.rewards.all())
    currency = purchase.currency
    reward_total = sum(reward.amount_minor for reward in rewards)
    statuses = sorted({reward.get_status_display() for reward in rewards})
    return TransactionRow(
        occurred_at=purchase.occurred_at,
        reference=purchase.external_id,
        status=purchase.status,
        status_label=purchase.get_status_display(),
        amount=minor_to_decimal_string(purchase.amount_minor, currency),
        refunded=minor_to_decimal_string(purchase.refunded_minor, currency),
        currency=currency,
        shop=purchase.location.name if purchase.location is not None else "",
        offers="; ".join(dict.fromkeys(reward.offer.title for reward in rewards)),
        reward=minor_to_decimal_string(reward_total, currency) if rewards else "",
        reward_status=", ".join(statuses),
        customer=customer_pseudonym(merchant_id=merchant_id, user_id=purchase.user_id),
    )


def transaction_rows(
    *, merchant_id: int, filters: TransactionFilters, chunk_size: int = 2_000
) -> Iterator[TransactionRow]:
    """Every matching row, read in chunks through a server-side cursor: memory stays flat however
    many there are (each chunk's rewards come in one more query)."""
    for purchase in transactions(merchant_id=merchant_id, filters=filters).iterator(chunk_size=chunk_size):
        yield transaction_row(purchase, merchant_id=merchant_id)
