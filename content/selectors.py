"""Reads: what the public sees (published versions only) and what staff see (drafts, status, history)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from content.errors import VersionNotFoundError
from content.kinds import ContentKind, kind_of
from content.models import BannerVersion, ContentItem, ContentVersion, FaqCategory, FaqEntryVersion, Page, PageVersion
from content.services import content_values

BANNERS_SHOWN = 3


class PageNotPublishedError(VersionNotFoundError):
    code = "page_not_found"
    default_message = gettext_lazy("There is no such page.")


# --- Public ----------------------------------------------------------------------------------------


def page_published(*, slug: str) -> PageVersion:
    """The version of the page the public sees; ``PageNotPublishedError`` if none (or no such page)."""
    page = Page.objects.select_related("published").filter(slug=slug, published__isnull=False).first()
    if page is None or page.published is None:
        raise PageNotPublishedError()
    return page.published


@dataclass(frozen=True)
class FaqSection:
    category: str
    title: str
    entries: list[FaqEntryVersion]


def faq_sections(entries: list[FaqEntryVersion]) -> list[FaqSection]:
    """Entries grouped by category in the categories' order, each group by ``order``; empty groups left out."""
    sections = []
    for category in FaqCategory:
        chosen = sorted((e for e in entries if e.category == category), key=lambda e: (e.order, e.item_id or 0))
        if chosen:
            sections.append(FaqSection(category=category.value, title=str(category.label), entries=chosen))
    return sections


def faq_published() -> list[FaqEntryVersion]:
    """Every published FAQ entry's published version, in one query."""
    return list(FaqEntryVersion.objects.filter(item__published=F("pk")).order_by("category", "order", "item_id"))


def banners_live(*, placement: str, now: datetime | None = None) -> list[BannerVersion]:
    """The published banners for ``placement`` whose window is open now, newest first, at most three.

    One query: hot pages (the wallet home) call it on every view.
    """
    now = now or timezone.now()
    return list(
        BannerVersion.objects.filter(item__published=F("pk"), placement=placement, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-starts_at", "-id")[:BANNERS_SHOWN]
    )


# --- Staff -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    item: ContentItem
    status: str  # "draft" (never published or withdrawn), "published", "changed" (draft differs)
    status_label: str


def item_status(item: ContentItem) -> tuple[str, str]:
    if item.published is None:
        return "draft", "Draft only"
    if content_values(item) != content_values(item.published):
        return "changed", "Changes pending"
    return "published", "Published"


def content_rows(*, kind: ContentKind) -> list[ItemRow]:
    items: QuerySet = kind.model.objects.select_related("published")
    return [ItemRow(item, *item_status(item)) for item in items]


def content_item(*, kind: ContentKind, item_id: int) -> ContentItem | None:
    return kind.model.objects.select_related("published").filter(pk=item_id).first()


def content_history(*, item: ContentItem) -> QuerySet:
    return (
        kind_of(item).version_model.objects.filter(item_id=item.pk).select_related("published_by").order_by("-number")
    )


def content_version(*, item: ContentItem, number: int) -> ContentVersion:
    version = kind_of(item).version_model.objects.filter(item_id=item.pk, number=number).first()
    if version is None:
        raise VersionNotFoundError()
    return version


def draft_as_version(item: ContentItem) -> ContentVersion:
    """The draft as an unsaved version, so a preview renders through the same templates as the public."""
    kind = kind_of(item)
    return kind.version_model(item_id=item.pk, number=0, **content_values(item))
