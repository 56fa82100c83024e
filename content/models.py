"""The public site's editable content (F-X5): pages, FAQ entries and banners.

Each item holds its *draft* in its own columns and points at its *published* version, one row of
its version table. Publishing copies the draft into a new version row; version rows are append-only
(a PostgreSQL trigger refuses UPDATE and DELETE), so they are the history of everything the public
has seen: who published what, and when. Restoring copies an old version back into the draft.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FaqCategory(models.TextChoices):
    SHOPPERS = "shoppers", _("For shoppers")
    MONEY = "money", _("Your money")
    SHOPS = "shops", _("For shops")


class BannerPlacement(models.TextChoices):
    WALLET_HOME = "wallet_home", _("Wallet home")
    PUBLIC_PAGES = "public_pages", _("Public pages (FAQ, How it works, other pages)")


class _Version(models.Model):
    """What every version row records: its number within the item, who published it and when."""

    number = models.PositiveIntegerField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"version {self.number}"


# --- Pages ---------------------------------------------------------------------------------------


class Page(models.Model):
    """A public page at /pages/<slug>/ (How it works lives at its own old address)."""

    CONTENT_FIELDS: ClassVar[tuple[str, ...]] = ("title", "summary", "body")
    # Set once, when the page is created: its address must keep working.
    CREATE_ONLY_FIELDS: ClassVar[tuple[str, ...]] = ("slug",)

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    published = models.OneToOneField(
        "content.PageVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title


class PageVersion(_Version):  # __str__ from _Version
    item = models.ForeignKey(Page, on_delete=models.PROTECT, related_name="versions")
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField()

    class Meta(_Version.Meta):
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="content_pageversion_number_unique")]


# --- FAQ -----------------------------------------------------------------------------------------


class FaqEntry(models.Model):
    """One question and its answer on /faq/, in a category, ordered within it."""

    CONTENT_FIELDS: ClassVar[tuple[str, ...]] = ("question", "answer", "category", "order")
    CREATE_ONLY_FIELDS: ClassVar[tuple[str, ...]] = ()

    question = models.CharField(max_length=300)
    answer = models.TextField()
    category = models.CharField(max_length=20, choices=FaqCategory.choices)
    order = models.PositiveSmallIntegerField(default=0)
    published = models.OneToOneField(
        "content.FaqEntryVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "order", "id"]
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question


class FaqEntryVersion(_Version):  # __str__ from _Version
    item = models.ForeignKey(FaqEntry, on_delete=models.PROTECT, related_name="versions")
    question = models.CharField(max_length=300)
    answer = models.TextField()
    category = models.CharField(max_length=20, choices=FaqCategory.choices)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta(_Version.Meta):
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="content_faqentryversion_number_unique")]
        indexes = [models.Index(fields=["category", "order"], name="content_faq_published_order")]


# --- Banners -------------------------------------------------------------------------------------


class Banner(models.Model):
    """A short notice with an optional link, shown where it is placed while its window is open."""

    CONTENT_FIELDS: ClassVar[tuple[str, ...]] = ("text", "link", "placement", "starts_at", "ends_at")
    CREATE_ONLY_FIELDS: ClassVar[tuple[str, ...]] = ()

    text = models.CharField(max_length=200)
    link = models.CharField(max_length=300, blank=True)
    placement = models.CharField(max_length=20, choices=BannerPlacement.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    published = models.OneToOneField(
        "content.BannerVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="content_banner_window"
            )
        ]

    def __str__(self) -> str:
        return self.text


class BannerVersion(_Version):  # __str__ from _Version
    item = models.ForeignKey(Banner, on_delete=models.PROTECT, related_name="versions")
    text = models.CharField(max_length=200)
    link = models.CharField(max_length=300, blank=True)
    placement = models.CharField(max_length=20, choices=BannerPlacement.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta(_Version.Meta):
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="content_bannerversion_number_unique"),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="content_bannerversion_window"
            ),
        ]
        indexes = [models.Index(fields=["placement", "starts_at"], name="content_banner_live")]


ContentItem = Page | FaqEntry | Banner
ContentVersion = PageVersion | FaqEntryVersion | BannerVersion
