"""The rewards catalogue: items marketing manages, who may redeem them, and redemption through the ledger.

Redemption is two steps, each one short transaction:

1. ``redemption_start``: under the item's row lock, check it can be redeemed (active, within its dates,
   the member eligible, stock left), take one from the stock and place a ledger **hold** on the member's
   points (``points_available`` → the owner's ``points_issuance``) or cashback (``consumer_available`` →
   the owner's ``merchant_receivable``, as a checkout spend). Not enough points or cashback: the hold is
   refused and nothing of the step is kept. The same confirmation sent twice (``request_key``) is one
   redemption.
2. ``redemption_issue``: a voucher code is issued to the member and the hold is **captured**
   (``points_redeem`` / ``catalogue_redeem``); if no code can be issued the hold is **released** and the
   stock given back (``redemption_fail``).

Stock never goes below zero: it is decremented under the item's row lock, and the database checks it.
A redemption left pending (a process that died between the steps) is settled by
``redemptions_settle_stale``: issued if it can be, else failed; its hold expires in any case.

Lock order: item, then redemption, then voucher codes, then the ledger (hold row, accounts).
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.tier_selectors import tier_standing
from programmes.catalogue_errors import (
    InsufficientCashbackError,
    InsufficientPointsError,
    InvalidRewardItemError,
    NotEligibleError,
    NoVoucherCodeLeftError,
    OutOfStockError,
    RewardUnavailableError,
)
from programmes.catalogue_models import (
    CodeSource,
    PriceKind,
    Redemption,
    RedemptionStatus,
    RewardItem,
    RewardKind,
    Segment,
)
from programmes.errors import RoleNotAllowedError
from programmes.models import BusinessCustomer, Contract, FieldRole, FieldRoleKind
from programmes.vouchers import voucher_issue
from wallet.errors import HoldNotPendingError, IdempotencyConflictError, InsufficientFundsError
from wallet.models import POINTS, AccountKind, Hold, JournalKind, LedgerAccount
from wallet.points import merchant_owner_key, points_account, points_issuance_account
from wallet.services import account_get_or_create, hold_place, hold_post, hold_void

if TYPE_CHECKING:
    from accounts.models import User
    from campaigns.models import Tier
    from programmes.models import Programme

HOLD_FOR = datetime.timedelta(minutes=15)
STALE_AFTER = datetime.timedelta(minutes=5)
MAX_PRICE = 10**12
MAX_STOCK = 1_000_000


# --- Items (marketing admin) ------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    kind: str
    name: str
    description: str
    price_kind: str
    price: int
    stock: int
    valid_from: datetime.date
    valid_until: datetime.date
    code_source: str = CodeSource.GENERATED
    segment: str = Segment.EVERYONE
    programme: Programme | None = None
    min_tier: Tier | None = None
    is_active: bool = True


def _item_fields(role: FieldRole, spec: ItemSpec) -> dict[str, object]:
    if role.role != FieldRoleKind.MARKETING_ADMIN:
        raise RoleNotAllowedError()
    if spec.kind not in RewardKind.values or spec.price_kind not in PriceKind.values:
        raise InvalidRewardItemError(gettext("Choose what the reward is and what it is priced in."))
    if spec.segment not in Segment.values or spec.code_source not in CodeSource.values:
        raise InvalidRewardItemError()
    if not spec.name.strip():
        raise InvalidRewardItemError(fields={"name": [gettext("Give the reward a name.")]})
    if not 0 < spec.price <= MAX_PRICE:
        raise InvalidRewardItemError(fields={"price": [gettext("The price must be above zero.")]})
    if not 0 <= spec.stock <= MAX_STOCK:
        raise InvalidRewardItemError(fields={"stock": [gettext("The stock is a whole number, zero or more.")]})
    if spec.valid_until < spec.valid_from:
        raise InvalidRewardItemError(
            fields={"valid_until": [gettext("The last day must be on or after the first day.")]}
        )
    if spec.programme is not None and spec.programme.brand_owner_id != role.brand_owner_id:
        raise RoleNotAllowedError()
    currency = POINTS if spec.price_kind == PriceKind.POINTS else role.brand_owner.currency
    return {
        "kind": spec.kind,
        "name": spec.name.strip(),
        "description": spec.description.strip(),
        "price_kind": spec.price_kind,
        "price": spec.price,
        "currency": currency,
        "stock": spec.stock,
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
        "code_source": spec.code_source,
        "segment": spec.segment,
        "programme": spec.programme,
        "min_tier": spec.min_tier,
        "is_active": spec.is_active,
    }


@transaction.atomic
def reward_item_create(*, role: FieldRole, spec: ItemSpec) -> RewardItem:
    return RewardItem.objects.create(brand_owner_id=role.brand_owner_id, **_item_fields(role, spec))


@transaction.atomic
def reward_item_update(*, role: FieldRole, item: RewardItem, spec: ItemSpec) -> RewardItem:
    """Change an item (its stock too) under its row lock, so a redemption in progress sees one or the other."""
    fields = _item_fields(role, spec)
    locked = RewardItem.objects.select_for_update().get(pk=item.pk)
    if locked.brand_owner_id != role.brand_owner_id:
        raise RoleNotAllowedError()
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    return locked


# --- Who may redeem ------------------------------------------------------------------------------------


def item_refusal(*, item: RewardItem, user: User, today: datetime.date | None = None) -> str | None:
    """Why the member may not redeem the item now, in words for them; None when they may."""
    today = today or timezone.localdate()
    if not item.is_active or not item.valid_from <= today <= item.valid_until:
        return gettext("This reward cannot be redeemed now.")
    if item.segment != Segment.EVERYONE:
        customers = BusinessCustomer.objects.filter(brand_owner_id=item.brand_owner_id, user=user)
        if item.segment != Segment.BUSINESS_CUSTOMERS:
            customers = customers.filter(kind=item.segment)
        if not customers.exists():
            return gettext("This reward is for the brand owner's business customers.")
    if (
        item.programme_id is not None
        and not Contract.objects.filter(
            programme_id=item.programme_id, customer__user=user, status=Contract.Status.APPROVED
        ).exists()
    ):
        return gettext("This reward is for the customers in its programme.")
    if item.min_tier is not None:
        tier = tier_standing(user=user).tier
        if tier is None or tier.rank < item.min_tier.rank:
            return gettext("This reward is for members from the %(tier)s tier.") % {"tier": item.min_tier.name}
    return None


# --- Redemption ----------------------------------------------------------------------------------------


def _ledger_accounts(item: RewardItem, user: User) -> tuple[LedgerAccount, LedgerAccount]:
    owner = merchant_owner_key(item.brand_owner.merchant_id)
    if item.price_kind == PriceKind.POINTS:
        return points_account(user=user), points_issuance_account(merchant_id=item.brand_owner.merchant_id)
    return (
        account_get_or_create(kind=AccountKind.CONSUMER_AVAILABLE, currency=item.currency, user=user),
        account_get_or_create(kind=AccountKind.MERCHANT_RECEIVABLE, currency=item.currency, owner_key=owner),
    )


@transaction.atomic
def redemption_start(
    *, user: User, item: RewardItem, request_key: str, now: datetime.datetime | None = None
) -> Redemption:
    """Step 1: take one from the stock and hold the price on the member's balance (see the module).
    The same ``request_key`` again returns the first redemption; for another item it is refused
    (``IdempotencyConflictError``)."""
    now = now or timezone.now()
    request_key = request_key[:64]
    item = RewardItem.objects.select_for_update(of=("self",)).select_related("brand_owner", "min_tier").get(pk=item.pk)
    existing = Redemption.objects.filter(user=user, request_key=request_key).first()
    if existing is not None:
        if existing.item_id != item.pk:
            raise IdempotencyConflictError(gettext("This Idempotency-Key was already used to redeem another reward."))
        return existing
    today = timezone.localdate(now)
    if not item.is_active or not item.valid_from <= today <= item.valid_until:
        raise RewardUnavailableError()
    refusal = item_refusal(item=item, user=user, today=today)
    if refusal is not None:
        raise NotEligibleError(refusal)
    if item.stock <= 0:
        raise OutOfStockError()
    item.stock -= 1
    item.save(update_fields=["stock", "updated_at"])
    redemption = Redemption.objects.create(
        item=item, user=user, request_key=request_key, price=item.price, currency=item.currency
    )
    account, counterparty = _ledger_accounts(item, user)
    try:
        hold = hold_place(
            idempotency_key=redemption.hold_key,
            account=account,
            counterparty=counterparty,
            amount=item.price,
            expires_at=now + HOLD_FOR,
            memo=item.name[:255],
            causes={"redemption": redemption.pk, "reward_item": item.pk},
        )
    except InsufficientFundsError as error:
        raise (InsufficientPointsError() if item.is_points else InsufficientCashbackError()) from error
    redemption.hold = hold
    redemption.save(update_fields=["hold", "updated_at"])
    return redemption


def redemption_issue(*, redemption: Redemption) -> Redemption:
    """Step 2: issue a voucher and capture the hold; on failure release it (``NoVoucherCodeLeftError``
    is raised after the failure is recorded). Safe to run again: an issued or failed redemption is
    returned as it is."""
    try:
        with transaction.atomic():
            locked = Redemption.objects.select_for_update().select_related("item__brand_owner").get(pk=redemption.pk)
            if locked.status != RedemptionStatus.PENDING:
                return locked
            item = locked.item
            voucher = voucher_issue(item=item, holder=locked.user, source=f"redemption:{locked.pk}")
            assert locked.hold is not None  # placed in step 1, in the redemption's own transaction
            hold_post(
                hold=locked.hold,
                idempotency_key=locked.capture_key,
                kind=JournalKind.POINTS_REDEEM if item.is_points else JournalKind.CATALOGUE_REDEEM,
                memo=item.name[:255],
            )
            locked.voucher = voucher
            locked.status = RedemptionStatus.ISSUED
            locked.save(update_fields=["voucher", "status", "updated_at"])
            return locked
    except NoVoucherCodeLeftError as error:
        redemption_fail(redemption=redemption, reason=str(error.message))
        raise


@transaction.atomic
def redemption_fail(*, redemption: Redemption, reason: str) -> Redemption:
    """Release the hold and give the stock back (a pending redemption only)."""
    locked = Redemption.objects.select_for_update().get(pk=redemption.pk)
    if locked.status != RedemptionStatus.PENDING:
        return locked
    item = RewardItem.objects.select_for_update().get(pk=locked.item_id)
    if locked.hold is not None and locked.hold.status == Hold.Status.PENDING:
        with contextlib.suppress(HoldNotPendingError):  # expired by the sweep meanwhile: released all the same
            hold_void(hold=locked.hold)
    item.stock += 1
    item.save(update_fields=["stock", "updated_at"])
    locked.status = RedemptionStatus.FAILED
    locked.failure = reason[:200]
    locked.save(update_fields=["status", "failure", "updated_at"])
    return locked


def catalogue_redeem(*, user: User, item: RewardItem, request_key: str) -> Redemption:
    """Both steps for the member's confirmation (the page and, later, the API call this)."""
    redemption = redemption_start(user=user, item=item, request_key=request_key)
    if redemption.status != RedemptionStatus.PENDING:
        return redemption
    return redemption_issue(redemption=redemption)


def redemptions_settle_stale(*, now: datetime.datetime | None = None) -> int:
    """Finish redemptions left pending for longer than ``STALE_AFTER``: issue them, or fail them.
    Returns how many were settled (safe to run any time; a task can call it every few minutes)."""
    now = now or timezone.now()
    settled = 0
    stale = Redemption.objects.filter(status=RedemptionStatus.PENDING, created_at__lte=now - STALE_AFTER)
    for redemption in stale.order_by("pk")[:500]:
        hold = redemption.hold
        try:
            if hold is not None and hold.status == Hold.Status.PENDING and hold.expires_at > now:
                redemption_issue(redemption=redemption)
            else:
                redemption_fail(redemption=redemption, reason=gettext("Not issued in time; nothing was taken."))
        except NoVoucherCodeLeftError:
            pass  # recorded as failed by redemption_issue
        settled += 1
    return settled
