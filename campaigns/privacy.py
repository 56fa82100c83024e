"""The person's purchases, rewards, tier and challenge progress, for "download my data" (F-A5).

Closing an account keeps these rows, tied to the anonymised shell: they hold no name or address,
and the merchants' figures and the ledger's causes point at them (docs/privacy.md). Cashback still
pending blocks closing the account until it matures (then it can be paid out or donated).
"""

import json

from accounts.models import User
from accounts.privacy_registry import (
    Eraser,
    ErasureBlocker,
    ExportSection,
    Row,
    eraser_register,
    not_exported_register,
    section_register,
)
from campaigns.models import (
    AutoPayoutRun,
    BillingInvoice,
    BillingOptIn,
    ChallengeProgress,
    CustomerTier,
    Purchase,
    Reward,
    RewardStatus,
)
from wallet.money import minor_to_decimal_string


def _money(amount_minor: int | None, currency: str) -> str | None:
    return None if amount_minor is None else minor_to_decimal_string(amount_minor, currency)


def _purchases(user: User) -> list[Row]:
    rows = []
    for purchase in (
        Purchase.objects.filter(user=user)
        .select_related("merchant")
        .prefetch_related("rewards")
        .order_by("occurred_at", "id")
    ):
        earned = sum(reward.amount_minor for reward in purchase.rewards.all())
        rows.append(
            {
                "purchase_id": purchase.pk,
                "occurred_at": purchase.occurred_at,
                "merchant": purchase.merchant.display_name,
                "source": purchase.source,
                "amount": _money(purchase.amount_minor, purchase.currency),
                "refunded": _money(purchase.refunded_minor, purchase.currency),
                "currency": purchase.currency,
                "status": purchase.status,
                "cashback_earned": _money(earned, purchase.currency),
                # What every offer decided, including why a purchase did not earn.
                "decisions": json.dumps(purchase.decisions, ensure_ascii=False),
            }
        )
    return rows


def _rewards(user: User) -> list[Row]:
    return [
        {
            "reward_id": reward.pk,
            "kind": reward.kind,
            "offer": reward.offer.title,
            "purchase_id": reward.purchase_id,
            "amount": _money(reward.amount_minor, reward.currency),
            "currency": reward.currency,
            "status": reward.status,
            "beneficiary": reward.beneficiary,
            "matures_at": reward.matures_at,
            "matured_at": reward.matured_at,
            "created_at": reward.created_at,
        }
        for reward in Reward.objects.filter(user=user).select_related("offer").order_by("created_at", "id")
    ]


def _tier(user: User) -> list[Row]:
    return [
        {
            "tier": tier.tier.name if tier.tier else None,
            "spend_12m_minor": tier.spend_12m_minor,
            "earned_12m_minor": tier.earned_12m_minor,
            "computed_at": tier.computed_at,
        }
        for tier in CustomerTier.objects.filter(user=user).select_related("tier")
    ]


def _challenges(user: User) -> list[Row]:
    return [
        {"challenge_id": row.challenge_id, "progress": row.value, "updated_at": row.updated_at}
        for row in ChallengeProgress.objects.filter(user=user).order_by("challenge_id")
    ]


def _business_billing(user: User) -> list[Row]:
    """A business customer's Stripe invoices as read for business cashback, and its opt-ins."""
    invoices: list[Row] = [
        {
            "record": "invoice",
            "invoice_id": invoice.invoice_id,
            "status": invoice.status,
            "currency": invoice.currency,
            "base": _money(invoice.base_minor, invoice.currency),
            "cashback_rate": str(invoice.rate) if invoice.rate is not None else None,
            "period_start": invoice.period_start,
            "period_end": invoice.period_end,
        }
        for invoice in BillingInvoice.objects.filter(user=user).order_by("period_start", "id")
    ]
    opt_ins: list[Row] = [
        {
            "record": "opt-in",
            "subscription_id": opt_in.subscription_id,
            "cashback_rate": str(opt_in.rate),
            "opted_in_at": opt_in.opted_in_at,
            "opted_out_at": opt_in.opted_out_at,
        }
        for opt_in in BillingOptIn.objects.filter(user=user).order_by("opted_in_at", "id")
    ]
    auto_payouts: list[Row] = [
        {
            "record": "automatic payout",
            "currency": run.currency,
            "month": f"{run.period:%Y-%m}",
            "status": run.status,
            "reason": run.reason,
            "payout_id": run.payout_id,
        }
        for run in AutoPayoutRun.objects.filter(user=user).order_by("period", "id")
    ]
    return invoices + opt_ins + auto_payouts


def _blockers(user: User) -> list[ErasureBlocker]:
    if Reward.objects.filter(user=user, status=RewardStatus.PENDING, pending_minor__gt=0).exists():
        return [
            ErasureBlocker(
                code="rewards_pending",
                message="You have cashback still pending (a purchase can be refunded until its return period "
                "ends). Close your account once it is available and paid out or donated.",
            )
        ]
    return []


def _erase(user: User) -> dict[str, int]:
    # Segmentation data about the person; purchases and rewards stay with the anonymised shell.
    return {"tier_removed": CustomerTier.objects.filter(user=user).delete()[0]}


def register() -> None:
    section_register(
        ExportSection(
            name="purchases",
            title="Purchases",
            description="Every purchase we know of, with what it earned or why it did not (decisions).",
            rows=_purchases,
            covers=("campaigns.Purchase.user",),
            order=20,
        )
    )
    section_register(
        ExportSection(
            name="rewards",
            title="Rewards",
            description="The cashback each offer, challenge or monthly offer gave you, and its state.",
            rows=_rewards,
            covers=("campaigns.Reward.user",),
            order=21,
        )
    )
    section_register(
        ExportSection(
            name="tier",
            title="Loyalty tier",
            description="The tier you hold and the 12-month figures it was computed from (minor units).",
            rows=_tier,
            covers=("campaigns.CustomerTier.user",),
            order=22,
        )
    )
    section_register(
        ExportSection(
            name="challenges",
            title="Challenge progress",
            description="Your progress towards each challenge you took part in.",
            rows=_challenges,
            covers=("campaigns.ChallengeProgress.user",),
            order=23,
        )
    )
    section_register(
        ExportSection(
            name="business_billing",
            title="Business cashback on your Stripe invoices",
            description="The invoices of your subscription we read for business cashback, your opt-ins to it "
            "and the automatic payouts of your cashback at each month end.",
            rows=_business_billing,
            covers=("campaigns.BillingInvoice.user", "campaigns.BillingOptIn.user", "campaigns.AutoPayoutRun.user"),
            order=24,
        )
    )
    not_exported_register(
        fields=("campaigns.Offer.created_by", "campaigns.Offer.updated_by", "campaigns.OfferStatusChange.actor"),
        reason="Who made or reviewed an offer: a merchant's team member or staff acting, not a consumer's data.",
    )
    not_exported_register(
        fields=("campaigns.Announcement.created_by",),
        reason="The staff member who sent an announcement: staff acting, not a consumer's data.",
    )
    eraser_register(Eraser(name="campaigns", erase=_erase, blockers=_blockers, order=20))
