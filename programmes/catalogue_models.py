"""The rewards catalogue and e-vouchers (issue 20, seeds 002 and 003): tables only; the workflows are in
``programmes/catalogue.py`` (redemption) and ``programmes/vouchers.py`` (codes, batches, the SMS claim).

Imported at the end of ``programmes/models.py`` so Django registers them with the app.

- ``RewardItem``: something a member can redeem — a discount, a free product, a prepaid voucher, an event
  invitation — priced in points or in cashback (minor units of the owner's currency), with a stock that
  the database keeps from going below zero, dates it can be redeemed between, and who may redeem it.
- ``VoucherBatch`` and ``VoucherCode``: codes marketing uploaded (or the platform generated), activated or
  voided by finance. A code is stored sealed (``cashback.sealed_text``) with a keyed digest for
  uniqueness and its last characters for a masked display; the full code is opened only for the member
  who holds it, after the SMS check.
- ``Redemption``: one member's redemption of one item: the ledger hold on their points or cashback while
  the voucher is issued, then the capture (``issued``) or the release (``failed``).
- ``VoucherClaim``: the one-time SMS code that lets the holder see a voucher's code: expiry, attempts,
  resends, a lock after too many wrong codes.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RewardKind(models.TextChoices):
    DISCOUNT = "discount", _("Discount")
    FREE_PRODUCT = "free_product", _("Free product")
    PREPAID_VOUCHER = "prepaid_voucher", _("Prepaid voucher")
    EVENT_INVITATION = "event_invitation", _("Event invitation")


class PriceKind(models.TextChoices):
    POINTS = "points", _("Points")
    CASHBACK = "cashback", _("Cashback")


class Segment(models.TextChoices):
    """Who an item is for, from what the platform knows of the member."""

    EVERYONE = "everyone", _("Everyone")
    BUSINESS_CUSTOMERS = "business", _("The brand owner's business customers")
    WHOLESALERS = "wholesaler", _("Its wholesalers")
    SERVICE_PROVIDERS = "service_provider", _("Its service providers")


class CodeSource(models.TextChoices):
    UPLOADED = "uploaded", _("Codes marketing uploads")
    GENERATED = "generated", _("Codes the platform generates")


def _item_image_path(item: "RewardItem", filename: str) -> str:
    return f"catalogue/{item.brand_owner_id}/{filename}"


class RewardItem(models.Model):
    Kind = RewardKind
    PriceKind = PriceKind

    brand_owner = models.ForeignKey("programmes.BrandOwner", on_delete=models.CASCADE, related_name="reward_items")
    kind = models.CharField(max_length=20, choices=RewardKind.choices)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    price_kind = models.CharField(max_length=10, choices=PriceKind.choices)
    # Whole points, or minor units of ``currency`` for a cashback price.
    price = models.BigIntegerField()
    # "PTS" for a points price, else the owner's money currency.
    currency = models.CharField(max_length=3)
    stock = models.IntegerField(help_text="How many can still be redeemed; never below zero.")
    valid_from = models.DateField()
    valid_until = models.DateField()
    code_source = models.CharField(max_length=10, choices=CodeSource.choices, default=CodeSource.GENERATED)
    # Eligibility: all that are set must hold.
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.EVERYONE)
    programme = models.ForeignKey(
        "programmes.Programme", null=True, blank=True, on_delete=models.PROTECT, related_name="reward_items"
    )
    min_tier = models.ForeignKey(
        "campaigns.Tier", null=True, blank=True, on_delete=models.PROTECT, related_name="reward_items"
    )
    image = models.ImageField(upload_to=_item_image_path, blank=True, max_length=255)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["price", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="reward_item_stock_not_negative"),
            models.CheckConstraint(condition=Q(price__gt=0), name="reward_item_price_positive"),
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="reward_item_dates_valid"),
            models.CheckConstraint(condition=Q(kind__in=RewardKind.values), name="reward_item_kind_valid"),
            models.CheckConstraint(
                condition=(Q(price_kind=PriceKind.POINTS) & Q(currency="PTS"))
                | (Q(price_kind=PriceKind.CASHBACK) & ~Q(currency="PTS")),
                name="reward_item_price_currency_valid",
            ),
        ]
        indexes = [models.Index(fields=["brand_owner", "is_active", "valid_until"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_points(self) -> bool:
        return self.price_kind == PriceKind.POINTS


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for finance")
    ACTIVE = "active", _("Active")
    VOIDED = "voided", _("Voided")


class VoucherBatch(models.Model):
    """A file of codes marketing uploaded for one item; finance activates (or voids) it."""

    Status = BatchStatus

    item = models.ForeignKey(RewardItem, on_delete=models.CASCADE, related_name="batches")
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    code_count = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "sha256"], name="voucher_batch_once"),
            models.CheckConstraint(condition=Q(status__in=BatchStatus.values), name="voucher_batch_status_valid"),
        ]

    def __str__(self) -> str:
        return self.filename


class CodeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for activation")
    ACTIVE = "active", _("Available")
    ISSUED = "issued", _("Issued, not yet claimed")
    CLAIMED = "claimed", _("Claimed")
    VOIDED = "voided", _("Voided")


class VoucherCode(models.Model):
    """One e-voucher code. ``sealed`` is the encrypted code; ``digest`` a keyed hash of it, unique per
    brand owner (a duplicate is refused without opening any code); ``hint`` its last four characters.
    ``holder`` is the member it was issued to (a redemption or a programme tier's reward)."""

    Status = CodeStatus

    brand_owner = models.ForeignKey("programmes.BrandOwner", on_delete=models.CASCADE, related_name="voucher_codes")
    item = models.ForeignKey(RewardItem, on_delete=models.PROTECT, related_name="codes")
    batch = models.ForeignKey(VoucherBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="codes")
    sealed = models.TextField()
    digest = models.CharField(max_length=64)
    hint = models.CharField(max_length=4)
    status = models.CharField(max_length=10, choices=CodeStatus.choices, default=CodeStatus.PENDING)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="voucher_codes"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Where it went: a catalogue redemption, or a tier reward's ledger key.
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["brand_owner", "digest"], name="voucher_code_unique"),
            models.CheckConstraint(condition=Q(status__in=CodeStatus.values), name="voucher_code_status_valid"),
            models.CheckConstraint(
                condition=(Q(status__in=["issued", "claimed"]) & Q(holder__isnull=False) & Q(issued_at__isnull=False))
                | (Q(status__in=["pending", "active"]) & Q(holder__isnull=True))
                | Q(status="voided"),
                name="voucher_code_holder_consistent",
            ),
        ]
        indexes = [models.Index(fields=["item", "status", "id"])]

    def __str__(self) -> str:
        return f"voucher {self.pk} ({self.masked})"

    @property
    def masked(self) -> str:
        """What lists show: never the code, only its last characters."""
        return f"••••{self.hint}"


class RedemptionStatus(models.TextChoices):
    PENDING = "pending", _("Being issued")
    ISSUED = "issued", _("Issued")
    FAILED = "failed", _("Failed, nothing taken")


class Redemption(models.Model):
    """A member's redemption of one item. ``request_key`` is the confirmation form's own key: the same
    form sent twice (a double click, a retry) is one redemption."""

    Status = RedemptionStatus

    item = models.ForeignKey(RewardItem, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="redemptions")
    request_key = models.CharField(max_length=64)
    price = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.PENDING)
    hold = models.OneToOneField(
        "wallet.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="catalogue_redemption"
    )
    voucher = models.OneToOneField(
        VoucherCode, null=True, blank=True, on_delete=models.PROTECT, related_name="redemption"
    )
    failure = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "request_key"], name="redemption_once_per_request"),
            models.CheckConstraint(condition=Q(price__gt=0), name="redemption_price_positive"),
            models.CheckConstraint(condition=Q(status__in=RedemptionStatus.values), name="redemption_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="issued") | Q(voucher__isnull=False), name="redemption_issued_has_voucher"
            ),
        ]

    def __str__(self) -> str:
        return f"redemption {self.pk} of {self.item_id} ({self.status})"

    @property
    def hold_key(self) -> str:
        return f"catalogue:redemption:{self.pk}:hold"

    @property
    def capture_key(self) -> str:
        return f"catalogue:redemption:{self.pk}:capture"


class VoucherClaim(models.Model):
    """The SMS check in front of one voucher's code. One row per voucher: the current code (a keyed
    digest, never the code itself), when it expires, the wrong attempts and the sends so far, and until
    when the voucher is locked after too many wrong codes."""

    voucher = models.OneToOneField(VoucherCode, on_delete=models.CASCADE, related_name="claim")
    code_digest = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sends = models.PositiveSmallIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"claim of voucher {self.voucher_id}"
