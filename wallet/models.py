"""The double-entry ledger: accounts, journal transactions, entries and holds.

Sign convention: every account stores ``balance = credits - debits`` in minor units
(credit-normal). What the platform owes someone (a consumer's cashback, a charity's
donations) is a positive balance; what flows in from the outside world shows as a
negative balance on the settlement account. An account that may not go negative must
keep ``balance - pending_debits >= 0``: money reserved by pending holds is not
available. See docs/ledger.md.

Only ``wallet.services`` writes these tables. Journal transactions and entries are
append-only (PostgreSQL refuses UPDATE and DELETE on them, see migration 0002); a
correction is a new transaction. They carry ``created_at`` but no ``updated_at``,
because they are never updated.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Currency(models.TextChoices):
    NOK = "NOK", _("Norwegian krone")
    SEK = "SEK", _("Swedish krona")
    DKK = "DKK", _("Danish krone")
    EUR = "EUR", _("Euro")


# Points (docs/ledger.md, "Points"): a ledger currency of its own, whole points (no minor unit). It is
# not money: it is not one of ``Currency`` (so no payout, spend code, merchant or statement can name
# it), only the two points kinds below hold it (a database check), and a transaction balances per
# currency, so points never turn into money; a catalogue item priced in points is the only exchange.
POINTS = "PTS"


class LedgerCurrency(models.TextChoices):
    """What a ledger account may hold: the money currencies and points."""

    NOK = "NOK", _("Norwegian krone")
    SEK = "SEK", _("Swedish krona")
    DKK = "DKK", _("Danish krone")
    EUR = "EUR", _("Euro")
    PTS = POINTS, _("Points")


class AccountKind(models.TextChoices):
    # Owned by a consumer (user set).
    CONSUMER_PENDING = "consumer_pending", _("Pending cashback")
    CONSUMER_AVAILABLE = "consumer_available", _("Available cashback")
    CONSUMER_RECEIVABLE = "consumer_receivable", _("Owed by the consumer")
    # Owned by a merchant, charity or the platform (owner_key set).
    MERCHANT_FUNDING = "merchant_funding", _("Merchant funding")
    MERCHANT_RECEIVABLE = "merchant_receivable", _("Owed by the merchant")
    CHARITY_PAYABLE = "charity_payable", _("Owed to the charity")
    PLATFORM_REVENUE = "platform_revenue", _("Platform revenue")
    PAYOUTS_IN_TRANSIT = "payouts_in_transit", _("Payouts in transit")
    BREAKAGE = "breakage", _("Breakage")
    # The outside world's counterpart: money entering or leaving the platform's bank accounts.
    SETTLEMENT = "settlement", _("Settlement (outside world)")
    # The counter-account of approved manual adjustments (wallet.adjustments): what staff gave or took.
    PLATFORM_ADJUSTMENTS = "platform_adjustments", _("Manual adjustments")
    # Points (currency PTS only): a member's points, and the programme owner's issuance account, which
    # is debited for every point given (so it runs negative: minus the points outstanding) and credited
    # with the points members spend on its catalogue.
    POINTS_AVAILABLE = "points_available", _("Points")
    POINTS_ISSUANCE = "points_issuance", _("Points issued")
    # The platform's: points members forfeited by closing their account (breakage of points; never money).
    POINTS_FORFEITED = "points_forfeited", _("Points forfeited")


# The kinds whose balance may go below zero by default: receivables (what others owe
# us shows as a negative credit-normal balance) and the outside world's counterpart.
KINDS_ALLOWING_NEGATIVE = frozenset(
    {
        AccountKind.CONSUMER_RECEIVABLE,
        AccountKind.MERCHANT_RECEIVABLE,
        AccountKind.SETTLEMENT,
        AccountKind.PLATFORM_ADJUSTMENTS,
        AccountKind.POINTS_ISSUANCE,
    }
)
# The only kinds that hold points, and they hold nothing else (wallet_account_points_only_in_points_kinds).
POINTS_KINDS = (AccountKind.POINTS_AVAILABLE, AccountKind.POINTS_ISSUANCE, AccountKind.POINTS_FORFEITED)
CONSUMER_KINDS = (AccountKind.CONSUMER_PENDING, AccountKind.CONSUMER_AVAILABLE, AccountKind.CONSUMER_RECEIVABLE)
# Owner key of the platform's own accounts (revenue, breakage, settlement, ...).
PLATFORM_OWNER_KEY = "platform"


class JournalKind(models.TextChoices):
    REWARD_EARN = "reward_earn", _("Cashback earned")
    REWARD_MATURE = "reward_mature", _("Cashback became available")
    REWARD_REVERSE = "reward_reverse", _("Cashback reversed")
    REFERRAL_BONUS = "referral_bonus", _("Referral bonus")
    CHALLENGE_BONUS = "challenge_bonus", _("Challenge bonus")
    PAYOUT = "payout", _("Payout")
    PAYOUT_RETURN = "payout_return", _("Payout returned")
    DONATION = "donation", _("Donation")
    SPEND = "spend", _("Spent at checkout")
    HOLD_POST = "hold_post", _("Reserved amount captured")
    EXPIRY = "expiry", _("Cashback expired")
    MERCHANT_FUNDING = "merchant_funding", _("Merchant funding")
    MERCHANT_SETTLEMENT = "merchant_settlement", _("Merchant settlement")
    PAYOUT_SETTLEMENT = "payout_settlement", _("Payout settled")
    DONATION_DISBURSEMENT = "donation_disbursement", _("Donation disbursed")
    FEE = "fee", _("Platform fee")
    ADJUSTMENT = "adjustment", _("Manual adjustment")
    PROGRAMME_REWARD = "programme_reward", _("Programme reward")
    POINTS_AWARD = "points_award", _("Points earned")
    POINTS_REDEEM = "points_redeem", _("Points spent on a reward")
    CATALOGUE_REDEEM = "catalogue_redeem", _("Cashback spent on a reward")
    POINTS_FORFEIT = "points_forfeit", _("Points forfeited when the account was closed")


class Direction(models.TextChoices):
    DEBIT = "debit", _("Debit")
    CREDIT = "credit", _("Credit")


class LedgerAccount(models.Model):
    """One balance in one currency: a consumer's, a merchant's, a charity's or the platform's.

    The owner is either a user (consumer accounts) or an ``owner_key`` such as
    ``"platform"``, ``"merchant:42"`` or ``"charity:7"`` for apps that come later.
    ``balance`` and ``pending_debits`` are caches of the entries and pending holds, kept
    exact by the services (and checked nightly by ``manage.py ledger_check``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    owner_key = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=32, choices=AccountKind.choices)
    currency = models.CharField(max_length=3, choices=LedgerCurrency.choices)
    allows_negative = models.BooleanField(default=False)
    balance = models.BigIntegerField(default=0, help_text="Posted credits minus posted debits, in minor units.")
    pending_debits = models.BigIntegerField(default=0, help_text="Reserved by pending holds, in minor units.")
    version = models.BigIntegerField(default=0, help_text="Incremented on every change of the balances.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        # The staff panel's platform analytics and cashback liability (/staff/analytics/) read the whole ledger.
        permissions = [("view_platform_analytics", "Can view platform analytics and the cashback liability")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(owner_key="")) | (Q(user__isnull=True) & ~Q(owner_key="")),
                name="wallet_account_one_owner",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "currency"],
                condition=Q(user__isnull=False),
                name="wallet_account_unique_user_kind_currency",
            ),
            models.UniqueConstraint(
                fields=["owner_key", "kind", "currency"],
                condition=Q(user__isnull=True),
                name="wallet_account_unique_owner_kind_currency",
            ),
            # Target of the composite foreign key entry(account_id, currency) on PostgreSQL.
            models.UniqueConstraint(fields=["id", "currency"], name="wallet_account_unique_id_currency"),
            models.CheckConstraint(condition=Q(pending_debits__gte=0), name="wallet_account_pending_not_negative"),
            models.CheckConstraint(
                condition=Q(allows_negative=True) | Q(balance__gte=F("pending_debits")),
                name="wallet_account_not_overdrawn",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=LedgerCurrency.values), name="wallet_account_currency_known"
            ),
            models.CheckConstraint(
                condition=(Q(currency=POINTS) & Q(kind__in=POINTS_KINDS))
                | (~Q(currency=POINTS) & ~Q(kind__in=POINTS_KINDS)),
                name="wallet_account_points_only_in_points_kinds",
            ),
        ]

    def __str__(self) -> str:
        owner = f"user {self.user_id}" if self.user_id else self.owner_key
        return f"{owner} {self.kind} {self.currency}"

    @property
    def available(self) -> int:
        """What may be debited now: the posted balance less what pending holds reserve."""
        return self.balance - self.pending_debits


class JournalTransaction(models.Model):
    """One balanced set of entries, posted atomically. Append-only."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    payload_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical request.")
    kind = models.CharField(max_length=32, choices=JournalKind.choices)
    memo = models.CharField(max_length=255, blank=True)
    # What caused the transaction, e.g. {"purchase": 17, "offer": 3}; the first item is
    # the primary cause and is copied to the indexed source_type/source_id columns.
    causes = models.JSONField(default=dict, blank=True)
    source_type = models.CharField(max_length=50, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["source_type", "source_id"], name="wallet_journal_source_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key}"


class Entry(models.Model):
    """One side of a journal transaction: a positive amount debited from or credited to an account."""

    transaction = models.ForeignKey(JournalTransaction, on_delete=models.PROTECT, related_name="entries")
    # Indexed by wallet_entry_account_time_idx, whose first column is the account.
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries", db_index=False)
    # Copied from the account so the database can check it (composite foreign key on PostgreSQL).
    currency = models.CharField(max_length=3, choices=LedgerCurrency.choices)
    amount = models.BigIntegerField(help_text="Minor units, always positive; the direction gives the sign.")
    direction = models.CharField(max_length=6, choices=Direction.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_entry_amount_positive"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="wallet_entry_direction_valid"),
        ]
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="wallet_entry_account_time_idx")]

    def __str__(self) -> str:
        return f"{self.direction} {self.amount} {self.currency} on account {self.account_id}"

    @property
    def signed_amount(self) -> int:
        """The entry's effect on its account's credit-normal balance."""
        return self.amount if self.direction == Direction.CREDIT else -self.amount


class Hold(models.Model):
    """Money reserved on an account for a later capture (TigerBeetle's pending transfer).

    A hold moves from ``pending`` to exactly one of ``posted`` (all or part captured),
    ``voided`` (released) or ``expired`` (released by the scheduled sweep).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")
        EXPIRED = "expired", _("Expired")

    idempotency_key = models.CharField(max_length=200, unique=True)
    payload_hash = models.CharField(max_length=64)
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="holds")
    counterparty = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="counterparty_holds")
    currency = models.CharField(max_length=3, choices=LedgerCurrency.choices)
    amount = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    memo = models.CharField(max_length=255, blank=True)
    causes = models.JSONField(default=dict, blank=True)
    posted_amount = models.BigIntegerField(null=True, blank=True)
    posted_transaction = models.OneToOneField(
        JournalTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="hold"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_hold_amount_positive"),
            models.CheckConstraint(condition=~Q(account=F("counterparty")), name="wallet_hold_two_accounts"),
            models.CheckConstraint(
                condition=(
                    Q(status="pending", resolved_at__isnull=True, posted_transaction__isnull=True)
                    | Q(
                        status="posted",
                        resolved_at__isnull=False,
                        posted_transaction__isnull=False,
                        posted_amount__gt=0,
                        posted_amount__lte=F("amount"),
                    )
                    | Q(status__in=["voided", "expired"], resolved_at__isnull=False, posted_transaction__isnull=True)
                ),
                name="wallet_hold_status_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="pending"), name="wallet_hold_pending_due_idx")
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} {self.status} {self.amount} {self.currency}"


# --- Payouts (Stripe Connect) and spending at checkout -------------------------------
# Written only by wallet.payouts and wallet.spending; docs/payouts.md.


class PayoutAccount(models.Model):
    """A consumer's Stripe Connect (Express) account, which receives their payouts.

    The capability flags mirror Stripe's account object; ``account.updated`` keeps them
    current (``state_at`` is the time of the newest state applied, so an older event that
    arrives late changes nothing).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_account")
    stripe_account_id = models.CharField(max_length=255, unique=True)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    state_at = models.DateTimeField(null=True, blank=True, help_text="When Stripe reported the state held here.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"payout account {self.stripe_account_id} of user {self.user_id}"

    @property
    def is_ready(self) -> bool:
        return self.payouts_enabled and self.details_submitted


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    HELD = "held", _("Held for review")
    PROCESSING = "processing", _("Processing")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")


class Payout(models.Model):
    """Cashback paid out to the consumer's bank account through Stripe.

    The Stripe idempotency keys are stored with the row, in the same transaction that
    moves the money to "payouts in transit" — before any Stripe call — so every retry
    sends the same keys and Stripe answers with the first transfer and payout.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    payout_account = models.ForeignKey(PayoutAccount, on_delete=models.PROTECT, related_name="payouts")
    # The destination at the time of the request; the account row may later point elsewhere.
    stripe_account_id = models.CharField(max_length=255)
    amount = models.BigIntegerField(help_text="Minor units: what left the wallet, fee included.")
    fee = models.BigIntegerField(default=0, help_text="Minor units: the platform's fee (PAYOUT_FEE_MINOR at request).")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=12, choices=PayoutStatus.choices, default=PayoutStatus.REQUESTED)
    # Optional key from the client (API Idempotency-Key): a resent request returns the first payout.
    client_key = models.CharField(max_length=255, blank=True, default="")
    transfer_idempotency_key = models.CharField(max_length=200, blank=True, default="")
    payout_idempotency_key = models.CharField(max_length=200, blank=True, default="")
    reversal_idempotency_key = models.CharField(max_length=200, blank=True, default="")
    stripe_transfer_id = models.CharField(max_length=255, blank=True, default="")
    stripe_payout_id = models.CharField(max_length=255, blank=True, default="")
    stripe_reversal_id = models.CharField(max_length=255, blank=True, default="")
    reversal_needed = models.BooleanField(
        default=False, help_text="The transfer must be pulled back from the connected account (after a failure)."
    )
    failure_code = models.CharField(max_length=100, blank=True, default="")
    failure_message = models.CharField(max_length=500, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0, help_text="Processing attempts that reached Stripe.")
    # Made at a period end without being asked (payout_request_automatic); its receipt (e-mail + PDF)
    # follows payout.paid once: receipt_sent_at is set in the transaction that sends it.
    automatic = models.BooleanField(default=False)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_payout_amount_positive"),
            models.CheckConstraint(
                condition=Q(fee__gte=0) & Q(fee__lt=F("amount")), name="wallet_payout_fee_below_amount"
            ),
            models.CheckConstraint(condition=Q(status__in=PayoutStatus.values), name="wallet_payout_status_valid"),
            models.CheckConstraint(condition=Q(currency__in=Currency.values), name="wallet_payout_currency_known"),
            models.UniqueConstraint(
                fields=["user", "client_key"], condition=~Q(client_key=""), name="wallet_payout_unique_client_key"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="wallet_payout_user_idx"),
            models.Index(
                fields=["updated_at"],
                condition=Q(status__in=["requested", "processing"]),
                name="wallet_payout_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"payout {self.pk} {self.status} {self.amount} {self.currency}"

    @property
    def net_amount(self) -> int:
        """What reaches the bank account: the amount less the fee (what Stripe is asked to move)."""
        return self.amount - self.fee

    # Ledger idempotency keys, one per cause.
    @property
    def request_key(self) -> str:
        return f"payout:{self.pk}:request"

    @property
    def paid_key(self) -> str:
        return f"payout:{self.pk}:paid"

    @property
    def return_key(self) -> str:
        return f"payout:{self.pk}:return"


class PayoutStatusChange(models.Model):
    """One step of a payout's history. Append-only."""

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=12, choices=PayoutStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=PayoutStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stripe_event_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"payout {self.payout_id}: {self.from_status or '-'} -> {self.to_status}"


class SpendCode(models.Model):
    """A one-time code the consumer shows at a checkout to pay with cashback.

    Live while ``status`` is active and ``expires_at`` is ahead; used once, by one
    merchant, to place one hold on the consumer's available balance.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        USED = "used", _("Used")
        CANCELLED = "cancelled", _("Replaced by a newer code")

    code = models.CharField(max_length=16)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="spend_codes")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    # The merchant that used the code, by its ledger owner key ("merchant:42"): the wallet
    # does not depend on the merchants app; the hold's counterparty is that merchant's account.
    merchant_owner_key = models.CharField(max_length=64, blank=True, default="")
    hold = models.OneToOneField(Hold, null=True, blank=True, on_delete=models.PROTECT, related_name="spend_code")
    requested_amount = models.BigIntegerField(null=True, blank=True, help_text="What the checkout asked for.")
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Unique among codes that can still be used; used and replaced codes may repeat.
            models.UniqueConstraint(fields=["code"], condition=Q(status="active"), name="wallet_spendcode_live_unique"),
            models.CheckConstraint(
                condition=(Q(status="used", used_at__isnull=False, hold__isnull=False) & ~Q(merchant_owner_key=""))
                | (~Q(status="used") & Q(hold__isnull=True)),
                name="wallet_spendcode_used_has_hold",
            ),
            models.CheckConstraint(condition=Q(currency__in=Currency.values), name="wallet_spendcode_currency_known"),
        ]

    def __str__(self) -> str:
        return f"spend code {self.pk} {self.status}"


def _statement_path(statement: "Statement", filename: str) -> str:
    return f"statements/{statement.period:%Y/%m}/{statement.user_id}/{filename}"


class Statement(models.Model):
    """A consumer's stored monthly statement in one currency (PDF and CSV), see wallet/statements.py.

    Stored once the month is over (its entries can no longer change); the files live under
    MEDIA_ROOT and are served only through the consumer's own authenticated pages and API.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="statements")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    period = models.DateField(help_text="First day of the month.")
    opening_minor = models.BigIntegerField(help_text="Total over the covered accounts when the month began.")
    closing_minor = models.BigIntegerField(help_text="Total over the covered accounts when the month ended.")
    movements = models.PositiveIntegerField(default=0)
    pdf = models.FileField(upload_to=_statement_path, max_length=255)
    csv = models.FileField(upload_to=_statement_path, max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["user", "currency", "period"], name="wallet_statement_unique_month"),
            models.CheckConstraint(condition=Q(period__day=1), name="wallet_statement_period_first_day"),
        ]

    def __str__(self) -> str:
        return f"statement {self.period:%Y-%m} {self.currency} of user {self.user_id}"


class AdjustmentStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


# The accounts staff may adjust by hand: a consumer's available cashback, a merchant's, a charity's.
ADJUSTABLE_KINDS = (
    AccountKind.CONSUMER_AVAILABLE,
    AccountKind.MERCHANT_FUNDING,
    AccountKind.MERCHANT_RECEIVABLE,
    AccountKind.CHARITY_PAYABLE,
)


class Adjustment(models.Model):
    """A manual credit or debit to one ledger account, proposed by one finance person and approved
    (or rejected) by another (F-X3). Only approval posts the journal transaction, keyed
    ``adjustment:<id>``, against the platform's adjustments account; see wallet/adjustments.py."""

    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="adjustments")
    direction = models.CharField(
        max_length=6, choices=Direction.choices, help_text="Credit: the account gains; debit: it loses."
    )
    amount_minor = models.BigIntegerField(help_text="Minor units, always positive; the direction gives the sign.")
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    journal = models.OneToOneField(
        JournalTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_adjustment", "Can approve or reject a manual adjustment another person proposed")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="wallet_adjustment_amount_positive"),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="wallet_adjustment_direction_valid"
            ),
            # Four eyes, held by the database as well as by the service.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="wallet_adjustment_not_own_decision",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="proposed", decided_by__isnull=True, decided_at__isnull=True, journal__isnull=True)
                    | Q(status="approved", decided_by__isnull=False, decided_at__isnull=False, journal__isnull=False)
                    | Q(status="rejected", decided_by__isnull=False, decided_at__isnull=False, journal__isnull=True)
                ),
                name="wallet_adjustment_status_consistent",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="wallet_adjustment_status_idx")]

    def __str__(self) -> str:
        return f"adjustment {self.pk} {self.direction} {self.amount_minor} on account {self.account_id} {self.status}"

    @property
    def signed_amount(self) -> int:
        """The adjustment's effect on the account's credit-normal balance."""
        return self.amount_minor if self.direction == Direction.CREDIT else -self.amount_minor

    @property
    def badge(self) -> str:
        """The colour of its status badge on the staff pages."""
        return {"proposed": "pending", "approved": "success", "rejected": "danger"}.get(self.status, "neutral")
