"""Writes of the sales-target programmes: plain functions, keyword-only, each one atomic.

The acting person is given as their ``FieldRole`` (``role``); each service checks that the role and its
regions allow the action, so a page cannot do more than its role even if it forgot a check.

Locks, always in this order: the contract's row, then the region budget's row (``_budget_lock``). Approval
reserves the contract's rewards (the sum of its tiers') from the budget under the budget's lock, so
concurrent approvals never commit more than the budget; paying a reached tier takes the contract's lock,
so the same tier is never paid twice, and its ledger key is derived from contract and tier as well.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts.validators import phone_number_normalize
from cashback.formatting import format_date, format_money
from merchants.models import Merchant
from programmes.catalogue_models import RewardItem
from programmes.errors import (
    BudgetBelowCommittedError,
    BudgetExceededError,
    ContractAlreadyOpenError,
    ContractNotProposedError,
    ContractOutsidePeriodError,
    DuplicateCustomerCodeError,
    DuplicateSalesFileError,
    InvalidPhoneError,
    InvalidProgrammeError,
    NoRegionBudgetError,
    RegionNotAllowedError,
    RoleNotAllowedError,
    SalesFileError,
    TierWithoutRewardError,
)
from programmes.models import (
    ADMIN_ROLES,
    Brand,
    BrandOwner,
    BusinessCustomer,
    Contract,
    ContractEvent,
    FieldRole,
    FieldRoleChange,
    FieldRoleKind,
    Product,
    Programme,
    ProgrammeTier,
    PurchaseSale,
    PurchaseValue,
    Region,
    RegionBudget,
    SalesLine,
    SalesUpload,
    TargetKind,
    TierReward,
    TierRewardKind,
)
from programmes.sales_files import sales_file_read
from programmes.tier_rewards import tier_reward_deliver
from wallet.models import AccountKind
from wallet.services import account_get_or_create

if TYPE_CHECKING:
    from accounts.models import User


def _require_role(role: FieldRole, *allowed: str) -> None:
    if role.role not in allowed:
        raise RoleNotAllowedError()


def _require_region(role: FieldRole, region: Region) -> None:
    """Sales and regional heads act only in their regions; admins in every region of their brand owner."""
    if region.brand_owner_id != role.brand_owner_id:
        raise RegionNotAllowedError()
    if role.role in ADMIN_ROLES:
        return
    if not role.regions.filter(pk=region.pk).exists():
        raise RegionNotAllowedError()


# --- Master data ---------------------------------------------------------------------------------


@transaction.atomic
def brand_owner_enable(*, merchant: Merchant) -> BrandOwner:
    """Let a merchant run programmes (idempotent)."""
    brand_owner, _ = BrandOwner.objects.get_or_create(merchant=merchant)
    return brand_owner


@transaction.atomic
def region_create(*, brand_owner: BrandOwner, name: str) -> Region:
    region, _ = Region.objects.get_or_create(brand_owner=brand_owner, name=name.strip())
    return region


@transaction.atomic
def field_role_grant(*, brand_owner: BrandOwner, user: User, role: str, regions: Sequence[Region] = ()) -> FieldRole:
    """Give a person their one role at the brand owner (replacing an earlier one). Sales work in exactly
    one region, regional heads in one or more, admins in all (no regions given)."""
    if role not in FieldRoleKind.values:
        raise InvalidProgrammeError(gettext("Unknown role %(role)s.") % {"role": role})
    if any(region.brand_owner_id != brand_owner.pk for region in regions):
        raise RegionNotAllowedError()
    if role == FieldRoleKind.SALES and len(regions) != 1:
        raise InvalidProgrammeError(gettext("A sales person works in exactly one region."))
    if role == FieldRoleKind.REGIONAL_HEAD and not regions:
        raise InvalidProgrammeError(gettext("A regional head needs at least one region."))
    if role in ADMIN_ROLES and regions:
        raise InvalidProgrammeError(gettext("Admins see every region; give no regions."))
    field_role, _ = FieldRole.objects.update_or_create(brand_owner=brand_owner, user=user, defaults={"role": role})
    field_role.regions.set(regions)
    return field_role


@transaction.atomic
def field_role_assign(*, actor: FieldRole, email: str, role: str, regions: Sequence[Region] = ()) -> FieldRole:
    """A programme admin gives a person with an account (found by e-mail) their role at the brand owner.
    An admin cannot change their own role (the brand owner would lose its last way in)."""
    _require_role(actor, FieldRoleKind.PROGRAMME_ADMIN)
    user = get_user_model().objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise InvalidProgrammeError(fields={"email": [gettext("Nobody with an account has this e-mail address.")]})
    if user.pk == actor.user_id:
        raise InvalidProgrammeError(fields={"email": [gettext("You cannot change your own role.")]})
    granted = field_role_grant(brand_owner=actor.brand_owner, user=user, role=role, regions=regions)
    FieldRoleChange.objects.create(
        brand_owner_id=granted.brand_owner_id,
        person_id=granted.user_id,
        actor_id=actor.user_id,
        action=FieldRoleChange.Action.GRANTED,
        role=granted.role,
    )
    return granted


@transaction.atomic
def product_create(*, brand_owner: BrandOwner, brand_name: str, sku: str, name: str) -> Product:
    brand, _ = Brand.objects.get_or_create(brand_owner=brand_owner, name=brand_name.strip())
    product, _ = Product.objects.get_or_create(
        brand_owner=brand_owner, sku=sku.strip(), defaults={"brand": brand, "name": name.strip()}
    )
    return product


@dataclass(frozen=True)
class TierSpec:
    """A target and its reward. ``reward_minor`` is what the tier costs the budget: the cash paid, or the
    money value of ``reward_points`` points or of an e-voucher of ``reward_item``."""

    threshold: int
    reward_minor: int | None
    reward_kind: str = TierRewardKind.CASH
    reward_points: int | None = None
    reward_item: RewardItem | None = None


@transaction.atomic
def programme_create(
    *,
    role: FieldRole,
    name: str,
    target_kind: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    tiers: Sequence[TierSpec],
    brands: Iterable[Brand] = (),
    products: Iterable[Product] = (),
    budgets: dict[Region, int] | None = None,
) -> Programme:
    """A programme package with its tiers (ranked by threshold) and budgets. A programme admin's work."""
    _require_role(role, FieldRoleKind.PROGRAMME_ADMIN)
    brand_owner = role.brand_owner
    if target_kind not in TargetKind.values:
        raise InvalidProgrammeError(gettext("Choose a target: volume or value."))
    if ends_on < starts_on:
        raise InvalidProgrammeError(gettext("The programme must end on or after its first day."))
    if not tiers:
        raise InvalidProgrammeError("A programme needs at least one target.")
    rewards = [tier.reward_minor for tier in tiers]
    if any(reward is None or reward <= 0 for reward in rewards):
        raise TierWithoutRewardError()
    for tier in tiers:
        _tier_reward_check(tier, brand_owner)
    thresholds = [tier.threshold for tier in tiers]
    if any(threshold <= 0 for threshold in thresholds) or len(set(thresholds)) != len(thresholds):
        raise InvalidProgrammeError(gettext("Targets must be above zero and different from each other."))
    brands, products = list(brands), list(products)
    if not brands and not products:
        raise InvalidProgrammeError(gettext("Name the brands or products that count."))
    if any(b.brand_owner_id != brand_owner.pk for b in brands) or any(
        p.brand_owner_id != brand_owner.pk for p in products
    ):
        raise InvalidProgrammeError(gettext("Brands and products must be the brand owner's own."))
    programme = Programme.objects.create(
        brand_owner=brand_owner,
        name=name.strip(),
        target_kind=target_kind,
        starts_on=starts_on,
        ends_on=ends_on,
        currency=brand_owner.currency,
    )
    programme.brands.set(brands)
    programme.products.set(products)
    ordered = sorted(tiers, key=lambda tier: tier.threshold)
    ProgrammeTier.objects.bulk_create(
        ProgrammeTier(
            programme=programme,
            rank=rank,
            threshold=tier.threshold,
            reward_minor=tier.reward_minor or 0,
            reward_kind=tier.reward_kind,
            reward_points=tier.reward_points if tier.reward_kind == TierRewardKind.POINTS else None,
            reward_item=tier.reward_item if tier.reward_kind == TierRewardKind.E_VOUCHER else None,
        )
        for rank, tier in enumerate(ordered, start=1)
    )
    for region, amount in (budgets or {}).items():
        if region.brand_owner_id != brand_owner.pk:
            raise RegionNotAllowedError()
        if amount < 0:
            raise InvalidProgrammeError(gettext("A budget cannot be negative."))
        RegionBudget.objects.create(programme=programme, region=region, amount_minor=amount)
    return programme


def _tier_reward_check(tier: TierSpec, brand_owner: BrandOwner) -> None:
    if tier.reward_kind not in TierRewardKind.values:
        raise InvalidProgrammeError(gettext("Choose the reward: cash, points or an e-voucher."))
    if tier.reward_kind == TierRewardKind.POINTS and not (tier.reward_points and tier.reward_points > 0):
        raise TierWithoutRewardError("A points reward needs a number of points above zero.")
    if tier.reward_kind == TierRewardKind.E_VOUCHER and (
        tier.reward_item is None or tier.reward_item.brand_owner_id != brand_owner.pk
    ):
        raise TierWithoutRewardError(gettext("An e-voucher reward needs one of the brand owner's catalogue items."))


def _budget_lock(*, programme_id: int, region_id: int) -> RegionBudget:
    budget = RegionBudget.objects.select_for_update().filter(programme_id=programme_id, region_id=region_id).first()
    if budget is None:
        raise NoRegionBudgetError()
    return budget


@transaction.atomic
def region_budget_set(*, role: FieldRole, programme: Programme, region: Region, amount_minor: int) -> RegionBudget:
    """Set a region's budget (a finance admin's work); never below what approved contracts committed."""
    _require_role(role, FieldRoleKind.FINANCE_ADMIN)
    if programme.brand_owner_id != role.brand_owner_id:
        raise RoleNotAllowedError()
    _require_region(role, region)
    if amount_minor < 0:
        raise InvalidProgrammeError(gettext("A budget cannot be negative."))
    budget, _ = RegionBudget.objects.get_or_create(programme=programme, region=region, defaults={"amount_minor": 0})
    budget = _budget_lock(programme_id=programme.pk, region_id=region.pk)
    if amount_minor < budget.committed_minor:
        raise BudgetBelowCommittedError(
            gettext("Approved contracts already committed %(committed)s of this budget; it cannot be set lower.")
            % {"committed": format_money(budget.committed_minor, programme.currency)}
        )
    budget.amount_minor = amount_minor
    budget.save(update_fields=["amount_minor", "updated_at"])
    return budget


# --- Customers and contracts ---------------------------------------------------------------------


@transaction.atomic
def customer_register(
    *, role: FieldRole, region: Region, kind: str, code: str, name: str, contact_name: str, phone: str
) -> BusinessCustomer:
    """A sales person (or their regional head) registers a wholesaler or service provider. The rewards go
    to the wallet of the person with this phone number, who is given an account (no password: they set
    one with the SMS code of the password reset) if they have none."""
    _require_role(role, FieldRoleKind.SALES, FieldRoleKind.REGIONAL_HEAD)
    _require_region(role, region)
    try:
        number = phone_number_normalize(phone)
    except ValidationError as error:
        raise InvalidPhoneError(fields={"phone": list(error.messages)}) from error
    code = code.strip()
    if BusinessCustomer.objects.filter(brand_owner_id=role.brand_owner_id, code=code).exists():
        raise DuplicateCustomerCodeError(fields={"code": [DuplicateCustomerCodeError.default_message]})
    user_model = get_user_model()
    user = user_model.objects.filter(phone=number).first()
    if user is None:
        user = user_model.objects.create_user(phone=number, password=None, full_name=contact_name.strip())
    try:
        with transaction.atomic():
            return BusinessCustomer.objects.create(
                brand_owner_id=role.brand_owner_id,
                region=region,
                kind=kind,
                code=code,
                name=name.strip(),
                contact_name=contact_name.strip(),
                phone=number,
                user=user,
                registered_by=role.user,
            )
    except IntegrityError as error:  # a concurrent registration of the same code
        raise DuplicateCustomerCodeError(fields={"code": [DuplicateCustomerCodeError.default_message]}) from error


def _event(contract: Contract, action: str, actor: User | None, **details: object) -> None:
    ContractEvent.objects.create(contract=contract, action=action, actor=actor, details=details)


@transaction.atomic
def contract_propose(
    *,
    role: FieldRole,
    customer: BusinessCustomer,
    programme: Programme,
    contract_type: str,
    starts_on: datetime.date,
    expires_on: datetime.date,
) -> Contract:
    """A sales person offers one of their customers a programme, within the programme's period."""
    _require_role(role, FieldRoleKind.SALES)
    _require_region(role, customer.region)
    if programme.brand_owner_id != role.brand_owner_id or customer.brand_owner_id != role.brand_owner_id:
        raise RoleNotAllowedError()
    if contract_type not in Contract.Type.values:
        raise InvalidProgrammeError(gettext("Choose a contract type: growth or tactical."))
    if expires_on < starts_on or starts_on < programme.starts_on or expires_on > programme.ends_on:
        raise ContractOutsidePeriodError(
            gettext("The contract must start and expire between %(first)s and %(last)s, the programme's period.")
            % {"first": format_date(programme.starts_on), "last": format_date(programme.ends_on)}
        )
    try:
        with transaction.atomic():
            contract = Contract.objects.create(
                programme=programme,
                customer=customer,
                contract_type=contract_type,
                starts_on=starts_on,
                expires_on=expires_on,
                proposed_by=role.user,
            )
    except IntegrityError as error:
        raise ContractAlreadyOpenError() from error
    _event(
        contract,
        ContractEvent.Action.PROPOSED,
        role.user,
        contract_type=contract_type,
        starts_on=str(starts_on),
        expires_on=str(expires_on),
    )
    return contract


def _contract_lock(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().select_related("programme", "customer").get(pk=contract.pk)


@transaction.atomic
def contract_approve(*, role: FieldRole, contract: Contract) -> Contract:
    """The regional head of the customer's region approves: the contract's rewards (all its tiers) are
    reserved from the region's budget, refused if the budget left is not enough. Sales already uploaded
    for the contract's dates count at once."""
    _require_role(role, FieldRoleKind.REGIONAL_HEAD)
    contract = _contract_lock(contract)
    _require_region(role, contract.customer.region)
    if contract.status != Contract.Status.PROPOSED:
        raise ContractNotProposedError()
    committed = contract.programme.tiers.aggregate(total=Sum("reward_minor"))["total"] or 0
    budget = _budget_lock(programme_id=contract.programme_id, region_id=contract.customer.region_id)
    if budget.committed_minor + committed > budget.amount_minor:
        raise BudgetExceededError(
            gettext("The region's budget has %(left)s left; this contract needs %(needed)s.")
            % {
                "left": format_money(budget.left_minor, contract.programme.currency),
                "needed": format_money(committed, contract.programme.currency),
            }
        )
    budget.committed_minor += committed
    budget.save(update_fields=["committed_minor", "updated_at"])
    contract.status = Contract.Status.APPROVED
    contract.decided_by = role.user
    contract.decided_at = timezone.now()
    contract.committed_minor = committed
    contract.save(update_fields=["status", "decided_by", "decided_at", "committed_minor", "updated_at"])
    _event(contract, ContractEvent.Action.APPROVED, role.user, committed_minor=committed)
    _contract_settle_locked(contract)
    return contract


@transaction.atomic
def contract_reject(*, role: FieldRole, contract: Contract, reason: str) -> Contract:
    _require_role(role, FieldRoleKind.REGIONAL_HEAD)
    contract = _contract_lock(contract)
    _require_region(role, contract.customer.region)
    if contract.status != Contract.Status.PROPOSED:
        raise ContractNotProposedError()
    if not reason.strip():
        raise InvalidProgrammeError(
            gettext("Give the sales person a reason."), fields={"reason": [gettext("Give a reason.")]}
        )
    contract.status = Contract.Status.REJECTED
    contract.decided_by = role.user
    contract.decided_at = timezone.now()
    contract.decision_reason = reason.strip()[:300]
    contract.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    _event(contract, ContractEvent.Action.REJECTED, role.user, reason=contract.decision_reason)
    return contract


# --- Achievement and rewards ---------------------------------------------------------------------


def contract_achievement(*, contract: Contract) -> int:
    """What counted for the contract: its customer's sales of the programme's brands or products between
    the contract's first day and expiry — units for a volume programme, minor units for a value one —
    from the uploaded sales files and from the orders the platform saw (``PurchaseSale``); for a value
    target also the linked shops' card purchases and Stripe invoices (``PurchaseValue``)."""
    programme = contract.programme
    counts = Q(product__in=programme.products.all()) | Q(product__brand__in=programme.brands.all())
    column = "quantity" if programme.target_kind == TargetKind.VOLUME else "value_minor"
    total = 0
    for rows in (SalesLine.objects, PurchaseSale.objects):
        lines = rows.filter(
            counts, customer_id=contract.customer_id, sold_on__gte=contract.starts_on, sold_on__lte=contract.expires_on
        )
        total += int(lines.aggregate(total=Sum(column))["total"] or 0)
    if programme.target_kind == TargetKind.VALUE:
        # Card purchases at the customer's linked shops and its paid Stripe invoices (programmes/
        # linked_sources.py): an amount without products, so they count towards a value target only.
        values = PurchaseValue.objects.filter(
            customer_id=contract.customer_id, sold_on__gte=contract.starts_on, sold_on__lte=contract.expires_on
        )
        total += int(values.aggregate(total=Sum("value_minor"))["total"] or 0)
    return total


def reward_ledger_key(*, contract_id: int, tier_id: int) -> str:
    return f"programme:contract:{contract_id}:tier:{tier_id}"


def _contract_settle_locked(contract: Contract) -> list[TierReward]:
    """Recompute the contract's achievement and pay every tier reached and not yet paid.

    The caller holds the contract's row lock (``_contract_lock``). Each reward moves money from the brand
    owner (``merchant_receivable``: it owes the platform what its programmes paid) to the customer's
    available balance, out of what approval committed of the region's budget.
    """
    achieved = contract_achievement(contract=contract)
    if achieved != contract.achieved:
        _event(contract, ContractEvent.Action.ACHIEVEMENT, None, achieved=achieved, before=contract.achieved)
        contract.achieved = achieved
        contract.save(update_fields=["achieved", "updated_at"])
    if contract.status != Contract.Status.APPROVED:
        return []
    paid_tiers = set(contract.tier_rewards.values_list("tier_id", flat=True))
    due = [
        tier
        for tier in contract.programme.tiers.filter(threshold__lte=achieved).order_by("rank")
        if tier.pk not in paid_tiers
    ]
    if not due:
        return []
    budget = _budget_lock(programme_id=contract.programme_id, region_id=contract.customer.region_id)
    currency = contract.programme.currency
    owes = account_get_or_create(
        kind=AccountKind.MERCHANT_RECEIVABLE,
        currency=currency,
        owner_key=f"merchant:{contract.programme.brand_owner.merchant_id}",
    )
    wallet = account_get_or_create(kind=AccountKind.CONSUMER_AVAILABLE, currency=currency, user=contract.customer.user)
    rewards = []
    for tier in due:
        if contract.paid_minor + tier.reward_minor > contract.committed_minor:
            # Never reached: approval committed every tier. A tier added later is not paid over budget.
            raise BudgetExceededError(gettext("The contract's committed budget does not cover this tier."))
        key = reward_ledger_key(contract_id=contract.pk, tier_id=tier.pk)
        # Cash, points or an e-voucher (programmes/tier_rewards.py); reward_minor is its cost to the budget.
        tier_reward_deliver(contract=contract, tier=tier, key=key, owes=owes, wallet=wallet)
        rewards.append(
            TierReward.objects.create(contract=contract, tier=tier, amount_minor=tier.reward_minor, ledger_key=key)
        )
        contract.paid_minor += tier.reward_minor
        budget.paid_minor += tier.reward_minor
        _event(contract, ContractEvent.Action.TIER_REACHED, None, tier=tier.rank, reward_minor=tier.reward_minor)
    contract.save(update_fields=["paid_minor", "updated_at"])
    budget.save(update_fields=["paid_minor", "updated_at"])
    return rewards


@transaction.atomic
def contract_settle(*, contract: Contract) -> list[TierReward]:
    """Recount a contract and pay the tiers it reached (safe to run any number of times)."""
    return _contract_settle_locked(_contract_lock(contract))


@transaction.atomic
def sales_file_apply(*, role: FieldRole, filename: str, content: bytes) -> SalesUpload:
    """A finance admin's CSV of sales: every row checked first; one bad row and nothing is applied
    (``SalesFileError`` lists each bad row). Then the lines are stored and every approved contract of
    the customers named is recounted and paid the tiers it reached, all in this one transaction."""
    _require_role(role, FieldRoleKind.FINANCE_ADMIN)
    brand_owner = role.brand_owner
    digest = hashlib.sha256(content).hexdigest()
    if SalesUpload.objects.filter(brand_owner=brand_owner, sha256=digest).exists():
        raise DuplicateSalesFileError()
    reading = sales_file_read(brand_owner=brand_owner, content=content)
    if reading.errors:
        raise SalesFileError(rows=reading.errors)
    try:
        with transaction.atomic():
            upload = SalesUpload.objects.create(
                brand_owner=brand_owner,
                uploaded_by=role.user,
                filename=filename[:200],
                sha256=digest,
                row_count=len(reading.rows),
            )
    except IntegrityError as error:  # the same file uploaded at the same moment
        raise DuplicateSalesFileError() from error
    SalesLine.objects.bulk_create(
        SalesLine(
            upload=upload,
            customer=row.customer,
            product=row.product,
            sold_on=row.sold_on,
            quantity=row.quantity,
            value_minor=row.value_minor,
            line_number=row.line_number,
        )
        for row in reading.rows
    )
    customer_ids = {row.customer.pk for row in reading.rows}
    contracts = Contract.objects.filter(customer_id__in=customer_ids, status=Contract.Status.APPROVED).order_by("pk")
    for contract in contracts:
        _contract_settle_locked(_contract_lock(contract))
    return upload
