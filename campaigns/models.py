"""Offers, their conditions, challenges and line-item rules; loyalty tiers; purchases.

Workflows live in ``campaigns.services`` and reads in ``campaigns.selectors``; the rules
themselves are the pure ``campaigns.rules``. Money is integer minor units with an explicit
currency. Every rule the database can hold is a constraint here.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from campaigns.rules import Audience, ChallengeTarget, LineKind, LineScope, RewardType
from wallet.models import Currency


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class OfferBasis(models.TextChoices):
    PURCHASE = "purchase", _("Each purchase")
    MONTHLY_SPEND = "monthly_spend", _("A customer's spend in a calendar month")
    BILLING_PERIOD = "billing_period", _("A business customer's Stripe billing, at the rate on its invoice")


class Tier(models.Model):
    """A loyalty tier defined by staff (F-C5): reached by rolling 12-month spend or earned cashback."""

    class Basis(models.TextChoices):
        ROLLING_SPEND = "rolling_spend", _("Spend in the last 12 months")
        EARNED_CASHBACK = "earned_cashback", _("Cashback earned in the last 12 months")

    name = models.CharField(max_length=60)
    rank = models.PositiveSmallIntegerField(unique=True, help_text="Higher is better; 1 is the first tier.")
    basis = models.CharField(max_length=20, choices=Basis.choices, default=Basis.ROLLING_SPEND)
    threshold_minor = models.BigIntegerField(help_text="Minor units of the currency that reach this tier.")
    currency = models.CharField(max_length=3, choices=Currency.choices, default="NOK")
    multiplier = models.DecimalField(max_digits=4, decimal_places=2, default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=Q(rank__gte=1), name="campaigns_tier_rank_positive"),
            models.CheckConstraint(condition=Q(threshold_minor__gte=0), name="campaigns_tier_threshold_not_negative"),
            models.CheckConstraint(
                condition=Q(multiplier__gte=1) & Q(multiplier__lte=10), name="campaigns_tier_multiplier_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerTier(models.Model):
    """The tier a consumer holds now, as last computed by ``services.tier_recompute``."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_tier")
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    spend_12m_minor = models.BigIntegerField(default=0)
    earned_12m_minor = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.tier or 'no tier'}"


class Offer(models.Model):
    """A merchant's cashback offer (F-C1) with its conditions (F-C2).

    Status moves only through ``campaigns.services`` (see ``ALLOWED_TRANSITIONS`` there);
    ``version`` is the optimistic lock of the edit form: each update bumps it and an update
    against a stale version is refused. ``budget_spent`` changes only through
    ``services.offer_budget_consume``; the database refuses to overspend.
    """

    Status = OfferStatus

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="offers")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    reward_type = models.CharField(
        max_length=10, choices=[(t.value, t.value.title()) for t in RewardType], default=RewardType.PERCENT
    )
    percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    fixed_amount_minor = models.BigIntegerField(default=0)
    # The charity that receives a charity reward; a reference until the charity app has its model.
    charity_ref = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=OfferStatus.choices, default=OfferStatus.DRAFT)
    min_spend_minor = models.BigIntegerField(default=0)
    max_reward_per_purchase_minor = models.BigIntegerField(null=True, blank=True)
    max_rewards_per_customer = models.PositiveIntegerField(null=True, blank=True)
    budget_total_minor = models.BigIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    budget_spent_minor = models.BigIntegerField(default=0)
    days_of_week = models.JSONField(default=list, blank=True, help_text="0 = Monday … 6 = Sunday; empty: every day.")
    hour_from = models.PositiveSmallIntegerField(null=True, blank=True)
    hour_to = models.PositiveSmallIntegerField(null=True, blank=True)
    locations = models.ManyToManyField("merchants.Location", blank=True, related_name="offers")
    audience = models.CharField(
        max_length=20, choices=[(a.value, a.value.replace("_", " ").capitalize()) for a in Audience], default="everyone"
    )
    min_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="offers")
    segment = models.JSONField(default=dict, blank=True)
    return_period_days = models.PositiveSmallIntegerField(default=30)
    stackable = models.BooleanField(default=False)
    # "purchase": each purchase is judged by the rules engine; "monthly_spend": a percent of a customer's
    # total spend here in a calendar month, credited after the month ends (campaigns.tasks.monthly_rewards).
    basis = models.CharField(max_length=16, choices=OfferBasis.choices, default=OfferBasis.PURCHASE)
    # Business cashback (basis "billing_period"): at each month end pay the customer's available
    # cashback to their connected account without being asked (campaigns.services.auto_payouts).
    auto_payout = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "status"], name="offer_merchant_status"),
            # The rules engine's lookup: live offers of one merchant, never a scan of all campaigns.
            models.Index(
                fields=["merchant", "starts_at", "ends_at"],
                condition=Q(status="live"),
                name="offer_live_by_merchant",
            ),
            models.Index(fields=["status", "starts_at"], name="offer_status_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="campaigns_offer_ends_after_start"),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="campaigns_offer_percent_range"
            ),
            models.CheckConstraint(condition=Q(fixed_amount_minor__gte=0), name="campaigns_offer_fixed_not_negative"),
            models.CheckConstraint(condition=Q(min_spend_minor__gte=0), name="campaigns_offer_min_spend_not_negative"),
            models.CheckConstraint(
                condition=Q(max_reward_per_purchase_minor__isnull=True) | Q(max_reward_per_purchase_minor__gte=0),
                name="campaigns_offer_max_reward_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(budget_total_minor__isnull=True) | Q(budget_total_minor__gte=0),
                name="campaigns_offer_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(budget_spent_minor__gte=0)
                & (Q(budget_total_minor__isnull=True) | Q(budget_spent_minor__lte=F("budget_total_minor"))),
                name="campaigns_offer_budget_not_overspent",
            ),
            models.CheckConstraint(
                condition=(Q(hour_from__isnull=True) | Q(hour_from__lte=24))
                & (Q(hour_to__isnull=True) | Q(hour_to__lte=24)),
                name="campaigns_offer_hours_range",
            ),
            models.CheckConstraint(condition=Q(status__in=OfferStatus.values), name="campaigns_offer_status_valid"),
            models.CheckConstraint(
                condition=Q(reward_type__in=[t.value for t in RewardType]), name="campaigns_offer_reward_type_valid"
            ),
            models.CheckConstraint(
                condition=~Q(audience="tier") | Q(min_tier__isnull=False), name="campaigns_offer_tier_audience_has_tier"
            ),
            models.CheckConstraint(condition=Q(basis__in=OfferBasis.values), name="campaigns_offer_basis_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def budget_remaining_minor(self) -> int | None:
        if self.budget_total_minor is None:
            return None
        return self.budget_total_minor - self.budget_spent_minor

    @property
    def is_editable(self) -> bool:
        """Drafts and paused offers can be edited; others must be paused (or are under review/ended)."""
        return self.status in (OfferStatus.DRAFT, OfferStatus.PAUSED, OfferStatus.SCHEDULED)


class OfferStatusChange(models.Model):
    """Append-only history of an offer's status: who moved it, from what, to what, and why."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=OfferStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=OfferStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["offer", "-created_at"], name="offer_statuschange_offer")]

    def __str__(self) -> str:
        return f"{self.offer_id}: {self.from_status or '-'} → {self.to_status}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Status changes are append-only.")
        super().save(*args, **kwargs)


class Challenge(models.Model):
    """A bonus for crossing a target within the offer's period (F-C3); always attached to an offer."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="challenges")
    title = models.CharField(max_length=120)
    target_type = models.CharField(
        max_length=16,
        choices=[(ChallengeTarget.REVENUE.value, "Revenue"), (ChallengeTarget.PURCHASE_COUNT.value, "Purchase count")],
        default=ChallengeTarget.REVENUE,
    )
    target_value = models.BigIntegerField(help_text="Minor units for revenue, a number of purchases otherwise.")
    bonus_minor = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["offer_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(target_value__gt=0), name="campaigns_challenge_target_positive"),
            models.CheckConstraint(condition=Q(bonus_minor__gt=0), name="campaigns_challenge_bonus_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class LineItemRule(models.Model):
    """A reward for order lines of one category or product (F-C4), used by the partner API."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="line_item_rules")
    scope = models.CharField(max_length=10, choices=[(s.value, s.value.title()) for s in LineScope])
    key = models.CharField(max_length=100, help_text="Category name or product SKU, compared case-insensitively.")
    kind = models.CharField(max_length=10, choices=[(k.value, k.value.title()) for k in LineKind])
    percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    fixed_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["offer_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="campaigns_lineitemrule_percent_range"
            ),
            models.CheckConstraint(condition=Q(fixed_minor__gte=0), name="campaigns_lineitemrule_fixed_not_negative"),
            models.UniqueConstraint(fields=["offer", "scope", "key"], name="campaigns_lineitemrule_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


PURCHASE_STATUSES = ["awaiting", "authorised", "cleared", "partly_refunded", "refunded", "reversed"]


class Purchase(models.Model):
    """A purchase at a merchant, from a card network, Stripe, the partner API or the demo.

    ``(source, external_id)`` is unique so every event of one purchase finds its row. The state
    columns are derived from the purchase's ``PurchaseEvent`` rows by
    ``services.purchase_event_apply`` — from the set of events, never from their arrival order:

    - ``authorised_minor`` / ``cleared_minor``: the latest auth / clearing (by time, then event id);
    - ``amount_minor``: the cleared amount if any (clearing wins), else the authorised one;
    - ``refunded_minor``: the refunds, capped at ``amount_minor``; what was asked beyond that is
      ``refund_excess_minor`` (recorded, never paid out twice);
    - ``reversed``: a reversal cancels the whole purchase.

    ``decisions`` keeps the rules engine's decisions (every offer's code and message), so the
    consumer can see what the purchase earned or why not. See docs/rewards.md.
    """

    class Source(models.TextChoices):
        CARD = "card", _("Card network")
        STRIPE = "stripe", _("Stripe")
        PARTNER = "partner", _("Partner API")
        DEMO = "demo", _("Demo")

    class Status(models.TextChoices):
        AWAITING = "awaiting", "Awaiting the purchase"  # only a refund or reversal has arrived yet
        AUTHORISED = "authorised", _("Authorised")
        CLEARED = "cleared", _("Cleared")
        PARTLY_REFUNDED = "partly_refunded", _("Partly refunded")
        REFUNDED = "refunded", _("Refunded")
        REVERSED = "reversed", _("Reversed")

    source = models.CharField(max_length=10, choices=Source.choices)
    external_id = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="purchases")
    location = models.ForeignKey(
        "merchants.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    # The linked card a card-network purchase was made with (transaction monitoring searches and
    # counts by it); empty for other sources.
    card = models.ForeignKey(
        "accounts.Card", null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    amount_minor = models.BigIntegerField(help_text="The cleared amount, else the authorised one (0 while awaiting).")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AUTHORISED)
    authorised_minor = models.BigIntegerField(null=True, blank=True)
    cleared_minor = models.BigIntegerField(null=True, blank=True)
    refunded_minor = models.BigIntegerField(default=0)
    refund_excess_minor = models.BigIntegerField(default=0, help_text="Refunds asked beyond what was left.")
    reversed = models.BooleanField(default=False)
    line_items = models.JSONField(default=list, blank=True)
    decisions = models.JSONField(default=list, blank=True)
    # The amount the rewards were decided on; a new cleared amount decides again.
    rewards_basis_minor = models.BigIntegerField(null=True, blank=True)
    # Set once the rules have been applied to it (kept for the reports; the basis drives re-decisions).
    rewards_evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "status", "occurred_at"], name="purchase_merchant_status"),
            models.Index(fields=["user", "merchant"], name="purchase_user_merchant"),
            models.Index(fields=["user", "-occurred_at", "-id"], name="purchase_user_time"),
            models.Index(fields=["card", "occurred_at"], name="purchase_card_time"),
            models.Index(fields=["updated_at"], name="purchase_updated"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="campaigns_purchase_unique_source_id"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="campaigns_purchase_amount_not_negative"),
            models.CheckConstraint(condition=Q(status__in=PURCHASE_STATUSES), name="campaigns_purchase_status_valid"),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0) & Q(refunded_minor__lte=F("amount_minor")),
                name="campaigns_purchase_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refund_excess_minor__gte=0), name="campaigns_purchase_refund_excess_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def net_minor(self) -> int:
        """What is left of the purchase after refunds and reversals: the amount that still earns."""
        return 0 if self.reversed else self.amount_minor - self.refunded_minor


class PurchaseEventKind(models.TextChoices):
    AUTH = "auth", _("Authorisation")
    CLEARING = "clearing", _("Clearing")
    REFUND = "refund", _("Refund")
    REVERSAL = "reversal", _("Reversal")


class PurchaseEvent(models.Model):
    """One event of a purchase as a source reported it; append-only, unique per (source, event id).

    ``external_id`` is the transaction id the event carries (a refund's own id);
    ``original_external_id`` the purchase it refers to (refunds and reversals, when known).
    """

    Kind = PurchaseEventKind

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="events")
    source = models.CharField(max_length=10, choices=Purchase.Source.choices)
    event_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=PurchaseEventKind.choices)
    external_id = models.CharField(max_length=100)
    original_external_id = models.CharField(max_length=100, blank=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=Currency.choices)
    occurred_at = models.DateTimeField()
    line_items = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="campaigns_purchaseevent_unique_source_event"),
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0), name="campaigns_purchaseevent_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PurchaseEventKind.values), name="campaigns_purchaseevent_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id} {self.kind}"


class RewardKind(models.TextChoices):
    OFFER = "offer", _("Offer")
    CHALLENGE = "challenge", _("Challenge bonus")
    MONTHLY = "monthly", _("Monthly spend")


class RewardStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    AVAILABLE = "available", _("Available")
    PARTLY_REVERSED = "partly_reversed", _("Partly reversed")
    REVERSED = "reversed", _("Reversed")
    EXPIRED = "expired", _("Expired")


class Reward(models.Model):
    """What one offer (or challenge, or monthly-spend offer) gives one consumer, and where its money is.

    ``amount_minor`` is what it earns now: ``decided_minor`` (the engine's decision on
    ``basis_minor``) reduced in proportion to refunds. ``booked_minor`` is what the ledger holds
    for it (credited less reversed); ``services`` posts the difference whenever they differ. The
    ledger parts: ``pending_minor`` (in consumer_pending), ``available_minor`` (matured),
    ``expired_minor`` (moved to breakage), ``owed_minor`` (reversed after it was spent: the
    consumer's receivable), ``unrecovered_minor`` (a charity reward reversed after disbursement).
    Keys: ``ledger_key`` + ``:earn``, ``:adjust:<n>``, and ``reward:<id>:mature``. docs/rewards.md.
    """

    Kind = RewardKind
    Status = RewardStatus

    kind = models.CharField(max_length=10, choices=RewardKind.choices, default=RewardKind.OFFER)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="rewards")
    challenge = models.ForeignKey("Challenge", null=True, blank=True, on_delete=models.PROTECT, related_name="rewards")
    purchase = models.ForeignKey(Purchase, null=True, blank=True, on_delete=models.PROTECT, related_name="rewards")
    period = models.DateField(null=True, blank=True, help_text="First day of the month (monthly-spend rewards).")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="rewards"
    )
    beneficiary = models.CharField(max_length=10, default="consumer")  # "consumer" or "charity"
    charity_ref = models.CharField(max_length=64, blank=True)
    amount_minor = models.BigIntegerField()
    decided_minor = models.BigIntegerField(default=0)
    basis_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=16, choices=RewardStatus.choices, default=RewardStatus.PENDING)
    booked_minor = models.BigIntegerField(default=0)
    pending_minor = models.BigIntegerField(default=0)
    available_minor = models.BigIntegerField(default=0)
    expired_minor = models.BigIntegerField(default=0)
    owed_minor = models.BigIntegerField(default=0)
    unrecovered_minor = models.BigIntegerField(default=0)
    matures_at = models.DateTimeField(null=True, blank=True)
    matured_at = models.DateTimeField(null=True, blank=True)
    ledger_key = models.CharField(max_length=160, blank=True, help_text="Prefix of the reward's idempotency keys.")
    ledger_seq = models.PositiveIntegerField(default=0, help_text="Ledger postings made for it so far.")
    earn_journal = models.ForeignKey(
        "wallet.JournalTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mature_journal = models.ForeignKey(
        "wallet.JournalTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "offer"], name="reward_user_offer"),
            models.Index(fields=["matures_at"], condition=Q(matured_at__isnull=True), name="reward_maturing_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "purchase"], condition=Q(kind="offer"), name="campaigns_reward_once_per_purchase"
            ),
            models.UniqueConstraint(
                fields=["challenge", "user"], condition=Q(kind="challenge"), name="campaigns_reward_challenge_once"
            ),
            models.UniqueConstraint(
                fields=["offer", "user", "period"], condition=Q(kind="monthly"), name="campaigns_reward_monthly_once"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="campaigns_reward_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(pending_minor__gte=0)
                & Q(available_minor__gte=0)
                & Q(expired_minor__gte=0)
                & Q(owed_minor__gte=0)
                & Q(booked_minor__gte=0),
                name="campaigns_reward_parts_not_negative",
            ),
            models.CheckConstraint(condition=Q(status__in=RewardStatus.values), name="campaigns_reward_status_valid"),
            models.CheckConstraint(
                condition=(Q(kind="offer") & Q(purchase__isnull=False))
                | (Q(kind="challenge") & Q(challenge__isnull=False))
                | (Q(kind="monthly") & Q(period__isnull=False)),
                name="campaigns_reward_kind_has_its_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.currency} from offer {self.offer_id}"


class RewardHold(models.Model):
    """A hold on a reward: while one is open (``released_at`` empty) the reward does not mature.

    Put on by a later app's decision (transaction monitoring holds the rewards of a fraud flag) and
    named by that app's ``key`` (``monitoring:flag:<id>``), unique per reward, so holding twice is
    one hold. Releasing it lets the maturity job take the reward on its next run. docs/rewards.md.
    """

    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="holds")
    key = models.CharField(max_length=100)
    reason = models.CharField(max_length=200, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["reward"], condition=Q(released_at__isnull=True), name="rewardhold_open")]
        constraints = [
            models.UniqueConstraint(fields=["reward", "key"], name="campaigns_rewardhold_once_per_key"),
        ]

    def __str__(self) -> str:
        return f"hold {self.key} on reward {self.reward_id}"


class ChallengeProgress(models.Model):
    """A consumer's progress towards a challenge; its row lock serialises the bonus decision."""

    challenge = models.ForeignKey("Challenge", on_delete=models.CASCADE, related_name="progress")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    value = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["challenge_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "user"], name="campaigns_challengeprogress_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.challenge_id}: {self.value}"


class MerchantDayChange(models.Model):
    """A merchant's day whose purchases or rewards changed: insert-only, written in the changing
    transaction (one small row, no shared row to lock, so a hot merchant's purchases never queue on
    it). The insights app above folds these rows into its daily figures and deletes them (its task
    claims rows with SKIP LOCKED and recomputes each named day from the raw rows, so folding twice
    changes nothing). ``day`` is the purchase's day in ``settings.TIME_ZONE``. docs/insights.md.
    """

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"merchant {self.merchant_id} on {self.day}"


class Announcement(models.Model):
    """A message staff send to a segment of consumers who consented to marketing (F-N2), in batches.

    The segment: profile fields (city, gender, birth years), tier, a merchant's customers; empty
    fields do not narrow it. ``after_user_id`` is where the next batch starts (people in id order).
    """

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    title = models.CharField(max_length=120)
    body = models.TextField(max_length=1000)
    city = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=16, blank=True)
    born_from = models.PositiveSmallIntegerField(null=True, blank=True)
    born_to = models.PositiveSmallIntegerField(null=True, blank=True)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merchant = models.ForeignKey(
        "merchants.Merchant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENDING)
    audience_size = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    after_user_id = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="announcements_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


# --- Business cashback on Stripe billing (issue 21; docs/business-cashback.md) --------------------


class BillingInvoiceStatus(models.TextChoices):
    FINALIZED = "finalized", _("Finalized (not paid yet)")
    PAID = "paid", _("Paid")


class BillingInvoice(models.Model):
    """A business customer's Stripe invoice on a merchant's account, as read for business cashback.

    Written from ``invoice.finalized`` (starts it) or ``invoice.paid`` (confirms it), whichever comes
    first — a finalized invoice does not change. ``rate`` is the cashback price's ``cashback_rate``
    (None: the plan has no cashback price, or the rate is unusable — ``problem`` says why).
    ``base_minor`` is what the invoice bills for the plan (positive lines, net of discounts; credit
    prorations on it become ``BillingCredit`` rows of the invoices they credit). The base is earned
    month by month over ``period_start`` to ``period_end`` (the lines' service period).
    """

    Status = BillingInvoiceStatus

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invoice_id = models.CharField(max_length=255)
    customer_id = models.CharField(max_length=255, blank=True)
    subscription_id = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=10, choices=BillingInvoiceStatus.choices)
    rate = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    base_minor = models.BigIntegerField(default=0)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    problem = models.CharField(max_length=300, blank=True, help_text="Why it earns nothing, for staff.")
    finalized_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        indexes = [models.Index(fields=["merchant", "user", "currency"], name="billinginvoice_customer")]
        permissions = [("view_cashback_forecast", "Can view the business cashback forecast (money to set aside)")]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "invoice_id"], name="campaigns_billinginvoice_once"),
            models.CheckConstraint(condition=Q(base_minor__gte=0), name="campaigns_billinginvoice_base_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="campaigns_billinginvoice_period"
            ),
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | (Q(rate__gt=0) & Q(rate__lte=1)), name="campaigns_billinginvoice_rate"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} ({self.status}, rate {self.rate or '-'})"


class BillingCredit(models.Model):
    """A downward adjustment of a billed invoice: the non-card part of a credit note, the newly
    refunded part of its charge, or a credit proration on a later invoice. One row per Stripe
    object (``credit_ref``), stored whether or not its invoice has arrived yet."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    credit_ref = models.CharField(max_length=255, help_text="cn_…, <charge>:refunded_to:<n>, or il_… (a proration).")
    invoice_id = models.CharField(max_length=255)
    amount_minor = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "invoice_id"], name="billingcredit_invoice")]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "credit_ref"], name="campaigns_billingcredit_once"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="campaigns_billingcredit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.credit_ref}: -{self.amount_minor} on {self.invoice_id}"


class BillingOptIn(models.Model):
    """A business customer's choice of a plan with the cashback price, as the first invoice carrying
    it shows (the price is on an immutable invoice: the record of what the customer accepted).
    ``opted_out_at``: a later invoice of the subscription no longer carries it."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer_id = models.CharField(max_length=255)
    subscription_id = models.CharField(max_length=255, blank=True)
    first_invoice_id = models.CharField(max_length=255)
    rate = models.DecimalField(max_digits=7, decimal_places=6)
    opted_in_at = models.DateTimeField()
    opted_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opted_in_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "customer_id"], name="campaigns_billingoptin_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} opted in at {self.rate}"


class AutoPayoutStatus(models.TextChoices):
    PAID = "paid", _("Payout requested")
    SKIPPED = "skipped", _("Skipped")


class AutoPayoutRun(models.Model):
    """The automatic payout of one business customer's available cashback in one currency at one
    month end (campaigns.services.auto_payouts): ``paid`` names the wallet payout made with the key
    ``auto:billing:<CUR>:<YYYY-MM>``; ``skipped`` says why nothing was paid (no connected account
    ready, blocked, nothing available, below the minimum) — staff see it on the forecast page, and
    the next daily run of the same period tries again."""

    Status = AutoPayoutStatus

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    period = models.DateField(help_text="The first day of the month whose end it pays.")
    status = models.CharField(max_length=10, choices=AutoPayoutStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    payout = models.ForeignKey("wallet.Payout", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "currency", "period"], name="campaigns_autopayoutrun_once"),
            models.CheckConstraint(
                condition=Q(status__in=AutoPayoutStatus.values), name="campaigns_autopayoutrun_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(payout__isnull=False), name="campaigns_autopayoutrun_paid_has_payout"
            ),
        ]

    def __str__(self) -> str:
        return f"auto payout {self.currency} {self.period:%Y-%m} for {self.user_id}: {self.status}"
