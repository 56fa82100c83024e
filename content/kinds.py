"""The three kinds of content, as the staff pages and services address them (``pages``, ``faq``,
``banners`` in URLs): each names its item model, its version model and the fields a version copies."""

from dataclasses import dataclass

from django.db import models

from content.models import Banner, BannerVersion, FaqEntry, FaqEntryVersion, Page, PageVersion


@dataclass(frozen=True)
class ContentKind:
    slug: str
    label: str
    label_plural: str
    model: type[Page] | type[FaqEntry] | type[Banner]
    version_model: type[PageVersion] | type[FaqEntryVersion] | type[BannerVersion]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.model.CONTENT_FIELDS

    def permission(self, verb: str) -> str:
        """The Django permission for ``verb`` ("view", "add", "change") on this kind."""
        return f"content.{verb}_{self.model._meta.model_name}"


PAGES = ContentKind(slug="pages", label="page", label_plural="Pages", model=Page, version_model=PageVersion)
FAQ = ContentKind(slug="faq", label="FAQ entry", label_plural="FAQ", model=FaqEntry, version_model=FaqEntryVersion)
BANNERS = ContentKind(slug="banners", label="banner", label_plural="Banners", model=Banner, version_model=BannerVersion)
KINDS: dict[str, ContentKind] = {kind.slug: kind for kind in (PAGES, FAQ, BANNERS)}


def kind_of(obj: models.Model) -> ContentKind:
    """The kind of an item or of one of its versions."""
    return next(kind for kind in KINDS.values() if isinstance(obj, (kind.model, kind.version_model)))
