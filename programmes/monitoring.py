"""Marketing's programme monitoring (``/portal/<merchant>/programmes/monitoring/``): for the marketing
and programme admins, every programme of the brand owner at a glance — contracts by status, achievement
against target, tier rewards paid by kind — with the voucher batches and the action rules. A fixed
handful of aggregate queries, whatever the number of contracts, rewards or codes."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, Sum

from programmes.action_models import ActionRule
from programmes.action_selectors import rules_of
from programmes.catalogue_models import CodeStatus, VoucherBatch
from programmes.models import (
    BrandOwner,
    Contract,
    ContractStatus,
    Programme,
    ProgrammeTier,
    TierReward,
    TierRewardKind,
)


@dataclass(frozen=True)
class RewardsOfKind:
    kind: str
    label: str
    count: int
    amount_minor: int
    points: int


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass
class ProgrammeMonitor:
    programme: Programme
    by_status: list[StatusCount] = field(default_factory=list)
    approved: int = 0
    achieved: int = 0
    target: int = 0
    rewards: list[RewardsOfKind] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return min(999, round(100 * self.achieved / self.target)) if self.target else 0

    @property
    def percent_display(self) -> str:
        return f"{self.percent} %"

    @property
    def progress_display(self) -> str:
        return f"{self.achieved} / {self.target}"

    @property
    def rewards_paid_minor(self) -> int:
        return sum(row.amount_minor for row in self.rewards)


@dataclass(frozen=True)
class BatchMonitor:
    batch: VoucherBatch
    issued: int
    claimed: int
    left: int


@dataclass(frozen=True)
class Monitoring:
    programmes: list[ProgrammeMonitor]
    batches: list[BatchMonitor]
    rules: list[ActionRule]


def monitoring(*, brand_owner: BrandOwner) -> Monitoring:
    """Every programme of the brand owner (newest first) with its figures, the voucher batches with their
    codes issued / claimed / left, and the action rules with their awards and budget spent."""
    programmes = list(Programme.objects.filter(brand_owner=brand_owner).order_by("-starts_on", "-pk"))
    monitors = {programme.pk: ProgrammeMonitor(programme=programme) for programme in programmes}
    top = dict(
        ProgrammeTier.objects.filter(programme__brand_owner=brand_owner)
        .values("programme_id")
        .annotate(top=Max("threshold"))
        .values_list("programme_id", "top")
    )
    status_labels = dict(ContractStatus.choices)
    counts: dict[int, dict[str, int]] = {}
    for row in (
        Contract.objects.filter(programme__brand_owner=brand_owner)
        .values("programme_id", "status")
        .annotate(n=Count("pk"), achieved_sum=Sum("achieved"))
    ):
        counts.setdefault(row["programme_id"], {})[row["status"]] = row["n"]
        if row["status"] == ContractStatus.APPROVED:
            monitor = monitors[row["programme_id"]]
            monitor.approved = row["n"]
            monitor.achieved = int(row["achieved_sum"] or 0)
            monitor.target = int(top.get(row["programme_id"]) or 0) * row["n"]
    for programme_id, by_status in counts.items():
        monitors[programme_id].by_status = [
            StatusCount(status=status, label=str(label), count=by_status.get(status, 0))
            for status, label in status_labels.items()
        ]
    kind_labels = dict(TierRewardKind.choices)
    for reward in (
        TierReward.objects.filter(contract__programme__brand_owner=brand_owner)
        .values("contract__programme_id", "tier__reward_kind")
        .annotate(n=Count("pk"), amount=Sum("amount_minor"), points=Sum("tier__reward_points"))
        .order_by("contract__programme_id", "tier__reward_kind")
    ):
        kind = reward["tier__reward_kind"]
        monitors[reward["contract__programme_id"]].rewards.append(
            RewardsOfKind(
                kind=kind,
                label=str(kind_labels.get(kind, kind)),
                count=reward["n"],
                amount_minor=int(reward["amount"] or 0),
                points=int(reward["points"] or 0) if kind == TierRewardKind.POINTS else 0,
            )
        )
    batches = [
        BatchMonitor(batch=batch, issued=batch.n_issued, claimed=batch.n_claimed, left=batch.n_left)
        for batch in VoucherBatch.objects.filter(item__brand_owner=brand_owner)
        .select_related("item")
        .annotate(
            n_issued=Count("codes", filter=Q(codes__status=CodeStatus.ISSUED)),
            n_claimed=Count("codes", filter=Q(codes__status=CodeStatus.CLAIMED)),
            n_left=Count("codes", filter=Q(codes__status=CodeStatus.ACTIVE)),
        )
        .order_by("-created_at", "-pk")
    ]
    return Monitoring(
        programmes=[monitors[programme.pk] for programme in programmes],
        batches=batches,
        rules=list(rules_of(brand_owner=brand_owner)),
    )
