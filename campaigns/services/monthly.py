"""Monthly-spend offers: after a month ends, a share of each consumer's spend at the merchant."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from campaigns.models import Offer, OfferBasis, Purchase, Reward, RewardKind
from campaigns.services.offers import OFFER_STATUSES_WITH_HISTORY, offer_budget_consume
from campaigns.services.rewards import reward_book, round_half_even
from wallet.services import retrying_deadlocks

# --- Monthly spend-based offers ----------------------------------------------------------------


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime(month.year, month.month, 1), timezone.get_default_timezone())
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    end = timezone.make_aware(datetime(following.year, following.month, 1), timezone.get_default_timezone())
    return start, end


def previous_month(now: datetime) -> date:
    local = timezone.localtime(now)
    first = date(local.year, local.month, 1)
    last_month_day = first - timedelta(days=1)
    return date(last_month_day.year, last_month_day.month, 1)


def monthly_rewards_credit(*, month: date | None = None, now: datetime | None = None) -> int:
    """Credit monthly-spend offers for ``month`` (default: the month before now), after it ended.

    Per offer and consumer: ``percent`` of the consumer's cleared spend at the merchant in the
    month (within the offer's period, net of refunds, in the offer's currency), at least the
    offer's minimum spend, at most its maximum per purchase (read as per month) and what is left
    of its budget. One reward per offer, consumer and month (key ``monthly:<offer>:<user>:<YYYY-MM>``);
    running it again credits nothing new. Returns the number of rewards created.
    """
    now = now or timezone.now()
    month = month or previous_month(now)
    start, end = _month_bounds(month)
    if end > now:
        return 0
    offers = Offer.objects.filter(
        basis=OfferBasis.MONTHLY_SPEND,
        status__in=OFFER_STATUSES_WITH_HISTORY,
        starts_at__lt=end,
        ends_at__gt=start,
    ).select_related("merchant")
    created = 0
    for offer in offers.order_by("id"):
        if not offer.merchant.is_active_for_rewards:
            continue
        since, until = max(start, offer.starts_at), min(end, offer.ends_at)
        totals = (
            Purchase.objects.filter(
                merchant_id=offer.merchant_id,
                currency=offer.currency,
                user__isnull=False,
                user__blocked_at__isnull=True,  # a blocked person earns nothing new (accounts.blocking)
                reversed=False,
                cleared_minor__isnull=False,
                occurred_at__gte=since,
                occurred_at__lt=until,
            )
            .values("user_id")
            .annotate(total=Sum(F("amount_minor") - F("refunded_minor")))
            .order_by("user_id")
        )
        for row in totals:
            if monthly_reward_credit(offer=offer, user_id=row["user_id"], month=month, total_minor=row["total"] or 0):
                created += 1
    return created


def monthly_reward_credit(*, offer: Offer, user_id: int, month: date, total_minor: int) -> Reward | None:
    if total_minor <= 0 or total_minor < offer.min_spend_minor:
        return None
    amount = round_half_even(Decimal(total_minor) * offer.percent / 100)
    if offer.max_reward_per_purchase_minor is not None:
        amount = min(amount, offer.max_reward_per_purchase_minor)
    if amount <= 0:
        return None

    def work() -> Reward | None:
        with transaction.atomic():
            Offer.objects.select_for_update().filter(pk=offer.pk).first()  # one credit run per offer at a time
            if Reward.objects.filter(kind=RewardKind.MONTHLY, offer=offer, user_id=user_id, period=month).exists():
                return None
            granted = offer_budget_consume(offer_id=offer.pk, amount_minor=amount)
            if not granted:
                return None
            _, end = _month_bounds(month)
            reward = Reward.objects.create(
                kind=RewardKind.MONTHLY,
                offer=offer,
                period=month,
                user_id=user_id,
                currency=offer.currency,
                amount_minor=granted,
                decided_minor=granted,
                basis_minor=total_minor,
                matures_at=end + timedelta(days=offer.return_period_days),
                ledger_key=f"monthly:{offer.pk}:{user_id}:{month:%Y-%m}",
            )
            reward_book(reward, offer=offer, purchase=None)
            return reward

    return retrying_deadlocks(work)()
