"""Paying one reached tier in its kind (``ProgrammeTier.reward_kind``): cash to the wallet, points, or an
e-voucher the customer claims with an SMS code. Called by ``services._contract_settle_locked`` under the
contract's lock, once per (contract, tier); every kind is keyed by the same ledger key, so a retry gives
nothing twice (a cash or points transaction is idempotent by it; a voucher is looked up by it)."""

from __future__ import annotations

from programmes.catalogue_models import VoucherCode
from programmes.models import Contract, ProgrammeTier, TierRewardKind
from programmes.vouchers import voucher_issue
from wallet.models import JournalKind, LedgerAccount
from wallet.points import points_award
from wallet.services import transaction_post, transfer


def tier_reward_deliver(
    *, contract: Contract, tier: ProgrammeTier, key: str, owes: LedgerAccount, wallet: LedgerAccount
) -> None:
    """Give the customer the tier's reward. ``owes`` is the brand owner's receivable and ``wallet`` the
    customer's available cashback (used by cash rewards). Raises ``NoVoucherCodeLeftError`` when an
    e-voucher tier's item has no code left: the caller's whole transaction (a sales file) is refused."""
    memo = f"{contract.programme.name}: tier {tier.rank} reached"
    causes: dict[str, str | int] = {"contract": contract.pk, "tier": tier.pk}
    if tier.reward_kind == TierRewardKind.POINTS:
        assert tier.reward_points is not None  # tier_reward_kind_consistent
        points_award(
            user=contract.customer.user,
            points=int(tier.reward_points),
            merchant_id=contract.programme.brand_owner.merchant_id,
            idempotency_key=key,
            memo=memo,
            causes=causes,
        )
    elif tier.reward_kind == TierRewardKind.E_VOUCHER:
        assert tier.reward_item is not None  # tier_reward_kind_consistent
        if not VoucherCode.objects.filter(source=key).exists():
            voucher_issue(item=tier.reward_item, holder=contract.customer.user, source=key)
    else:
        transaction_post(
            idempotency_key=key,
            kind=JournalKind.PROGRAMME_REWARD,
            entries=transfer(debit=owes, credit=wallet, amount=tier.reward_minor),
            memo=memo,
            causes=causes,
        )
