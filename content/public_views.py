"""The public pages that read content: How it works, the FAQ and any other page at /pages/<slug>/.

The staff preview renders a draft through these same functions and templates, so what staff preview
is exactly what the public will see once it is published.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from content import selectors
from content.models import BannerPlacement, FaqEntryVersion, PageVersion
from content.rendering import render_markdown

HOW_IT_WORKS_SLUG = "how-it-works"
TERMS_SLUG = "terms"


def render_page(request: HttpRequest, version: PageVersion, *, preview: dict | None = None) -> HttpResponse:
    context = {
        "page": version,
        "rendered": render_markdown(version.body),
        "banners": selectors.banners_live(placement=BannerPlacement.PUBLIC_PAGES),
        "preview": preview,
    }
    return render(request, "content/page.html", context)


def render_faq(request: HttpRequest, entries: list[FaqEntryVersion], *, preview: dict | None = None) -> HttpResponse:
    sections = [
        (section, [(entry, render_markdown(entry.answer).html) for entry in section.entries])
        for section in selectors.faq_sections(entries)
    ]
    context = {
        "sections": sections,
        "banners": selectors.banners_live(placement=BannerPlacement.PUBLIC_PAGES),
        "preview": preview,
    }
    return render(request, "content/faq.html", context)


def _published_page(slug: str) -> PageVersion:
    try:
        return selectors.page_published(slug=slug)
    except selectors.PageNotPublishedError as error:
        raise Http404(error.message) from error


@require_GET
def how_it_works(request: HttpRequest) -> HttpResponse:
    return render_page(request, _published_page(HOW_IT_WORKS_SLUG))


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    """The terms of service the sign-up box links to: the page staff publish as "terms" at
    /staff/content/, or until they do, the platform's built-in terms (never a dead link)."""
    try:
        version = selectors.page_published(slug=TERMS_SLUG)
    except selectors.PageNotPublishedError:
        return render(request, "content/terms_default.html")
    return render_page(request, version)


@require_GET
def page_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render_page(request, _published_page(slug))


@require_GET
def faq(request: HttpRequest) -> HttpResponse:
    """Questions consumers and shops ask, as marketing publishes them at /staff/content/faq/."""
    return render_faq(request, selectors.faq_published())
