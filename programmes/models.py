"""Sales-target programmes (seed 002): a brand owner's regions and field roles, the business customers
its sales people register, programmes with tiers of targets and a budget per region, contracts that
bind a customer to a programme, the sales data that counts towards them and the rewards they paid.

Money is integer minor units in the brand owner's currency. The budget figures are kept on the row and
locked when they change (``programmes.services``); the database holds 0 ≤ paid ≤ committed ≤ amount.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant


class BrandOwner(models.Model):
    """A merchant that runs sales-target programmes for the brands it owns."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="brand_owner")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.merchant.display_name

    @property
    def currency(self) -> str:
        return self.merchant.currency


class Region(models.Model):
    brand_owner = models.ForeignKey(BrandOwner, on_delete=models.CASCADE, related_name="regions")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["brand_owner", "name"], name="region_name_unique")]

    def __str__(self) -> str:
        return self.name


class FieldRoleKind(models.TextChoices):
    SALES = "sales", _("Sales")
    REGIONAL_HEAD = "regional_head", _("Regional head")
    PROGRAMME_ADMIN = "programme_admin", _("Programme admin")
    MARKETING_ADMIN = "marketing_admin", _("Marketing admin")
    FINANCE_ADMIN = "finance_admin", _("Finance admin")


# Roles whose view is limited to their regions; the admins see every region of the brand owner.
REGIONAL_ROLES = (FieldRoleKind.SALES, FieldRoleKind.REGIONAL_HEAD)
ADMIN_ROLES = (FieldRoleKind.PROGRAMME_ADMIN, FieldRoleKind.MARKETING_ADMIN, FieldRoleKind.FINANCE_ADMIN)


class FieldRole(models.Model):
    """What one person does for a brand owner: one role, and for sales and regional heads the regions
    they work in (a sales person in one, a regional head over one or more)."""

    Kind = FieldRoleKind

    brand_owner = models.ForeignKey(BrandOwner, on_delete=models.CASCADE, related_name="field_roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="field_roles")
    role = models.CharField(max_length=20, choices=FieldRoleKind.choices)
    regions = models.ManyToManyField(Region, blank=True, related_name="field_roles")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand_owner_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["brand_owner", "user"], name="field_role_one_per_user"),
            models.CheckConstraint(condition=Q(role__in=FieldRoleKind.values), name="field_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.brand_owner}"

    @property
    def is_regional(self) -> bool:
        return self.role in REGIONAL_ROLES


class Brand(models.Model):
    brand_owner = models.ForeignKey(BrandOwner, on_delete=models.CASCADE, related_name="brands")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["brand_owner", "name"], name="brand_name_unique")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A product of a brand, named in the sales data by its SKU."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="products")
    brand_owner = models.ForeignKey(BrandOwner, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField("SKU", max_length=40)
    name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku", "id"]
        constraints = [models.UniqueConstraint(fields=["brand_owner", "sku"], name="product_sku_unique")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class CustomerKind(models.TextChoices):
    WHOLESALER = "wholesaler", _("Wholesaler")
    SERVICE_PROVIDER = "service_provider", _("Service provider")


class BusinessCustomer(models.Model):
    """A wholesaler or service provider registered by a sales person. ``code`` is the brand owner's own
    customer number, the one its sales data names. ``user`` is the person whose wallet gets the rewards
    (found or made by phone number at registration)."""

    Kind = CustomerKind

    brand_owner = models.ForeignKey(BrandOwner, on_delete=models.CASCADE, related_name="customers")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="customers")
    kind = models.CharField(max_length=20, choices=CustomerKind.choices)
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=150)
    contact_name = models.CharField(max_length=150)
    phone = models.CharField(max_length=20)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="business_customers")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["brand_owner", "code"], name="business_customer_code_unique"),
            models.CheckConstraint(condition=Q(kind__in=CustomerKind.values), name="business_customer_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TargetKind(models.TextChoices):
    VOLUME = "volume", _("Volume (units sold)")
    VALUE = "value", _("Value (amount sold)")


class Programme(models.Model):
    """A programme package: a period, what counts (brands, products), tiers of targets with a reward
    each, and a budget per region (``RegionBudget``)."""

    TargetKind = TargetKind

    brand_owner = models.ForeignKey(BrandOwner, on_delete=models.CASCADE, related_name="programmes")
    name = models.CharField(max_length=150)
    target_kind = models.CharField(max_length=10, choices=TargetKind.choices)
    starts_on = models.DateField()
    ends_on = models.DateField()
    currency = models.CharField(max_length=3)
    brands = models.ManyToManyField(Brand, blank=True, related_name="programmes")
    products = models.ManyToManyField(Product, blank=True, related_name="programmes")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="programme_period_valid"),
            models.CheckConstraint(condition=Q(target_kind__in=TargetKind.values), name="programme_target_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class TierRewardKind(models.TextChoices):
    CASH = "cash", _("Cash to the wallet")
    POINTS = "points", _("Points")
    E_VOUCHER = "e_voucher", _("E-voucher")


class ProgrammeTier(models.Model):
    """Reach ``threshold`` (units, or minor units of value) and the reward is paid. Rewards of the tiers
    add up: a contract reaching the third tier has been paid the first, second and third.

    ``reward_minor`` is what the tier costs the region's budget whatever its kind: the cash paid, or the
    money value of the points (``reward_points``) or of the e-voucher (a code of ``reward_item``)."""

    RewardKind = TierRewardKind

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tiers")
    rank = models.PositiveSmallIntegerField()
    threshold = models.BigIntegerField()
    reward_minor = models.BigIntegerField()
    reward_kind = models.CharField(max_length=10, choices=TierRewardKind.choices, default=TierRewardKind.CASH)
    reward_points = models.BigIntegerField(null=True, blank=True)
    reward_item = models.ForeignKey(
        "programmes.RewardItem", null=True, blank=True, on_delete=models.PROTECT, related_name="tiers"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["programme_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "rank"], name="tier_rank_unique"),
            models.UniqueConstraint(fields=["programme", "threshold"], name="tier_threshold_unique"),
            models.CheckConstraint(condition=Q(threshold__gt=0), name="tier_threshold_positive"),
            models.CheckConstraint(condition=Q(reward_minor__gt=0), name="tier_reward_positive"),
            models.CheckConstraint(
                condition=(Q(reward_kind="cash") & Q(reward_points__isnull=True) & Q(reward_item__isnull=True))
                | (Q(reward_kind="points") & Q(reward_points__gt=0) & Q(reward_item__isnull=True))
                | (Q(reward_kind="e_voucher") & Q(reward_points__isnull=True) & Q(reward_item__isnull=False)),
                name="tier_reward_kind_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} tier {self.rank}"


class RegionBudget(models.Model):
    """What a programme may pay in a region. ``committed`` is reserved by approved contracts (the sum of
    their tiers' rewards), ``paid`` is what reached tiers paid out of it."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="budgets")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="budgets")
    amount_minor = models.BigIntegerField()
    committed_minor = models.BigIntegerField(default=0)
    paid_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["programme_id", "region__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "region"], name="region_budget_unique"),
            models.CheckConstraint(
                condition=Q(paid_minor__gte=0)
                & Q(committed_minor__gte=F("paid_minor"))
                & Q(amount_minor__gte=F("committed_minor")),
                name="region_budget_never_overspent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} in {self.region}"

    @property
    def left_minor(self) -> int:
        return self.amount_minor - self.committed_minor


class ContractType(models.TextChoices):
    GROWTH = "growth", _("Growth")
    TACTICAL = "tactical", _("Tactical")


class ContractStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    # Closed: what approval committed and no tier paid went back to the region's budget.
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


OPEN_CONTRACT_STATUSES = (ContractStatus.PROPOSED, ContractStatus.APPROVED)


class Contract(models.Model):
    """A business customer in a programme: proposed by sales, approved (or rejected) by the regional
    head of the customer's region. ``achieved`` caches what counted so far (recomputed from the sales
    lines under the contract's row lock); ``committed_minor`` is what approval reserved of the budget."""

    Type = ContractType
    Status = ContractStatus

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="contracts")
    customer = models.ForeignKey(BusinessCustomer, on_delete=models.PROTECT, related_name="contracts")
    contract_type = models.CharField(max_length=10, choices=ContractType.choices)
    status = models.CharField(max_length=10, choices=ContractStatus.choices, default=ContractStatus.PROPOSED)
    starts_on = models.DateField()
    expires_on = models.DateField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    achieved = models.BigIntegerField(default=0)
    committed_minor = models.BigIntegerField(default=0)
    paid_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__gte=F("starts_on")), name="contract_dates_valid"),
            models.CheckConstraint(condition=Q(contract_type__in=ContractType.values), name="contract_type_valid"),
            models.CheckConstraint(condition=Q(status__in=ContractStatus.values), name="contract_status_valid"),
            models.CheckConstraint(
                condition=Q(paid_minor__gte=0) & Q(committed_minor__gte=F("paid_minor")), name="contract_paid_valid"
            ),
            models.UniqueConstraint(
                fields=["programme", "customer"],
                condition=Q(status__in=OPEN_CONTRACT_STATUSES),
                name="contract_one_open_per_customer",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.customer} in {self.programme}"


class ContractEvent(models.Model):
    """The history of a contract: every change, written once (append-only in PostgreSQL too)."""

    class Action(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        ACHIEVEMENT = "achievement", _("Achievement updated")
        TIER_REACHED = "tier_reached", _("Tier reached, reward paid")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        SOURCE_LINKED = "source_linked", _("Purchase source linked")
        SOURCE_UNLINKED = "source_unlinked", _("Purchase source unlinked")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["contract_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.action}"


class SalesUpload(models.Model):
    """A CSV of sales data a finance admin uploaded; the same file twice is refused (``sha256``)."""

    brand_owner = models.ForeignKey(BrandOwner, on_delete=models.CASCADE, related_name="sales_uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["brand_owner", "sha256"], name="sales_upload_once")]

    def __str__(self) -> str:
        return self.filename


class SalesLine(models.Model):
    """One sale of a product to a business customer, from an upload."""

    upload = models.ForeignKey(SalesUpload, on_delete=models.CASCADE, related_name="lines")
    customer = models.ForeignKey(BusinessCustomer, on_delete=models.PROTECT, related_name="sales_lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="sales_lines")
    sold_on = models.DateField()
    quantity = models.BigIntegerField()
    value_minor = models.BigIntegerField()
    line_number = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["upload_id", "line_number"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_line_quantity_positive"),
            models.CheckConstraint(condition=Q(value_minor__gte=0), name="sales_line_value_not_negative"),
        ]
        indexes = [models.Index(fields=["customer", "sold_on"])]

    def __str__(self) -> str:
        return f"{self.upload_id}:{self.line_number}"


class TierReward(models.Model):
    """A tier a contract reached and the reward paid for it: once per contract and tier (the ledger's
    idempotency key is derived from the same pair)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="tier_rewards")
    tier = models.ForeignKey(ProgrammeTier, on_delete=models.PROTECT, related_name="rewards")
    amount_minor = models.BigIntegerField()
    ledger_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["contract_id", "tier__rank"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "tier"], name="tier_reward_once"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="tier_reward_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} tier {self.tier_id}"


class FieldRoleChange(models.Model):
    """The history of the team: who gave or took away which role of whom, and when. Kept when the role
    itself is gone (a removed role leaves its ``FieldRole`` row deleted, this stays)."""

    class Action(models.TextChoices):
        GRANTED = "granted", _("Role given")
        REMOVED = "removed", _("Role removed")

    brand_owner = models.ForeignKey(BrandOwner, on_delete=models.CASCADE, related_name="field_role_changes")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    role = models.CharField(max_length=20, choices=FieldRoleKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["brand_owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.get_role_display()}"


# The rewards catalogue and e-vouchers live in their own module (one job each); imported here so that
# Django registers their models with this app.
# Rewards for actions and achievement from purchases (a module of their own; see its docstring).
from programmes.action_models import (  # noqa: E402
    ActionKind,
    ActionOutcome,
    ActionReport,
    ActionRule,
    PurchaseSale,
)
from programmes.catalogue_models import (  # noqa: E402
    Redemption,
    RewardItem,
    VoucherBatch,
    VoucherClaim,
    VoucherCode,
)
from programmes.source_models import CustomerSourceLink, PurchaseValue  # noqa: E402

__all__ = [
    "ActionKind",
    "ActionOutcome",
    "ActionReport",
    "ActionRule",
    "CustomerSourceLink",
    "PurchaseSale",
    "PurchaseValue",
    "Redemption",
    "RewardItem",
    "VoucherBatch",
    "VoucherClaim",
    "VoucherCode",
]
