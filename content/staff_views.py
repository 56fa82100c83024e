"""Staff pages at /staff/content/: list, create, edit a draft, preview, publish, history, restore.

Every page needs a content role (marketing or administrator: ``content.view_page`` is the gate);
each action then needs the kind's own permission (``content.add_<model>``, ``content.change_<model>``).
Writes go through ``content.services``, which record each action in the staff audit log.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from cashback.errors import DomainError
from content import selectors, services
from content.forms import FORMS
from content.kinds import KINDS, ContentKind
from content.models import ContentItem, ContentVersion, FaqEntryVersion, PageVersion
from content.public_views import render_faq, render_page

GATE = "content.view_page"


def _kind(slug: str, request: HttpRequest, verb: str) -> ContentKind:
    kind = KINDS.get(slug)
    if kind is None:
        raise Http404("No such kind of content.")
    if not request.user.has_perm(kind.permission(verb)):
        raise PermissionDenied("Your staff role cannot do this.")
    return kind


def _item(kind: ContentKind, item_id: int) -> ContentItem:
    item = selectors.content_item(kind=kind, item_id=item_id)
    if item is None:
        raise Http404(f"No such {kind.label}.")
    return item


@staff_required(GATE)
def index(request: HttpRequest) -> HttpResponse:
    sections = [(kind, selectors.content_rows(kind=kind)) for kind in KINDS.values()]
    return render(request, "content/staff/index.html", {"section": "content", "sections": sections})


@staff_required(GATE)
def create(request: AuthenticatedHttpRequest, kind_slug: str) -> HttpResponse:
    kind = _kind(kind_slug, request, "add")
    form = FORMS[kind.slug][0](request.POST or None)
    if request.method == "POST" and form.is_valid():
        item = services.content_create(kind=kind, values=form.cleaned_data, actor=request.user)
        messages.success(
            request, _("The %(label)s is saved as a draft. Preview it, then publish it.") % {"label": kind.label}
        )
        return redirect("content_staff:edit", kind_slug=kind.slug, item_id=item.pk)
    context = {"section": "content", "kind": kind, "form": form}
    return render(request, "content/staff/form.html", context, status=400 if form.errors else 200)


@staff_required(GATE)
def edit(request: AuthenticatedHttpRequest, kind_slug: str, item_id: int) -> HttpResponse:
    kind = _kind(kind_slug, request, "view" if request.method == "GET" else "change")
    item = _item(kind, item_id)
    form = FORMS[kind.slug][1](request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        services.content_draft_save(item=item, values=form.cleaned_data, actor=request.user)
        messages.success(request, _("Draft saved. The public still sees the published version until you publish."))
        return redirect("content_staff:edit", kind_slug=kind.slug, item_id=item.pk)
    if form.errors:
        item = _item(kind, item_id)  # the form changed the instance in memory; show the stored status
    status, status_label = selectors.item_status(item)
    context = {
        "section": "content",
        "kind": kind,
        "item": item,
        "form": form,
        "status": status,
        "status_label": status_label,
        "can_change": request.user.has_perm(kind.permission("change")),
    }
    return render(request, "content/staff/form.html", context, status=400 if form.errors else 200)


def _render_version(
    request: HttpRequest, kind: ContentKind, item: ContentItem, version: ContentVersion, preview: dict
) -> HttpResponse:
    """One version (or the draft) exactly as the public page shows it."""
    if isinstance(version, PageVersion):
        return render_page(request, version, preview=preview)
    if isinstance(version, FaqEntryVersion):
        others = [entry for entry in selectors.faq_published() if entry.item_id != item.pk]
        return render_faq(request, [*others, version], preview=preview)
    context = {"section": "content", "kind": kind, "banner": version, "preview": preview}
    return render(request, "content/staff/banner_preview.html", context)


@staff_required(GATE)
def preview(request: HttpRequest, kind_slug: str, item_id: int) -> HttpResponse:
    kind = _kind(kind_slug, request, "view")
    item = _item(kind, item_id)
    notice = {"title": "Preview of the draft", "kind": kind, "item": item, "draft": True}
    return _render_version(request, kind, item, selectors.draft_as_version(item), notice)


@staff_required(GATE)
def version_detail(request: HttpRequest, kind_slug: str, item_id: int, number: int) -> HttpResponse:
    kind = _kind(kind_slug, request, "view")
    item = _item(kind, item_id)
    try:
        version = selectors.content_version(item=item, number=number)
    except DomainError as error:
        raise Http404(error.message) from error
    notice = {"title": f"Version {number}", "kind": kind, "item": item, "version": version}
    return _render_version(request, kind, item, version, notice)


@staff_required(GATE)
def history(request: HttpRequest, kind_slug: str, item_id: int) -> HttpResponse:
    kind = _kind(kind_slug, request, "view")
    item = _item(kind, item_id)
    context = {
        "section": "content",
        "kind": kind,
        "item": item,
        "versions": selectors.content_history(item=item),
        "can_change": request.user.has_perm(kind.permission("change")),
    }
    return render(request, "content/staff/history.html", context)


@staff_required(GATE)
@require_POST
def publish(request: AuthenticatedHttpRequest, kind_slug: str, item_id: int) -> HttpResponse:
    kind = _kind(kind_slug, request, "change")
    item = _item(kind, item_id)
    try:
        version = services.content_publish(item=item, actor=request.user)
    except DomainError as error:
        messages.warning(request, error.message)
    else:
        messages.success(
            request, _("Published as version %(number)s: the public sees it now.") % {"number": version.number}
        )
    return redirect("content_staff:edit", kind_slug=kind.slug, item_id=item.pk)


@staff_required(GATE)
@require_POST
def withdraw(request: AuthenticatedHttpRequest, kind_slug: str, item_id: int) -> HttpResponse:
    kind = _kind(kind_slug, request, "change")
    item = services.content_withdraw(item=_item(kind, item_id), actor=request.user)
    messages.success(
        request, _("The %(label)s is off the public site; publish it to bring it back.") % {"label": kind.label}
    )
    return redirect("content_staff:edit", kind_slug=kind.slug, item_id=item.pk)


@staff_required(GATE)
@require_POST
def restore(request: AuthenticatedHttpRequest, kind_slug: str, item_id: int, number: int) -> HttpResponse:
    kind = _kind(kind_slug, request, "change")
    item = _item(kind, item_id)
    try:
        services.content_restore(item=item, number=number, actor=request.user)
    except DomainError as error:
        raise Http404(error.message) from error
    messages.success(
        request, _("Version %(number)s is back in the draft. Preview it, then publish it.") % {"number": number}
    )
    return redirect("content_staff:edit", kind_slug=kind.slug, item_id=item.pk)
