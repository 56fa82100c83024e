"""The staff panel (/staff/): merchant review — list, queue, detail with audit log, and the review
actions, each a POST calling one merchants service."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from accounts.staff_audit import record_staff_action
from adminpanel.forms import MerchantFilterForm
from cashback.errors import DomainError, form_error_from
from merchants import selectors as merchant_selectors
from merchants import services as merchant_services
from merchants.forms import NoteForm, ReasonForm
from merchants.models import Merchant

PAGE_SIZE = 25
VIEW_MERCHANT = "merchants.view_merchant"
CHANGE_MERCHANT = "merchants.change_merchant"


@staff_required()
def index(request: HttpRequest) -> HttpResponse:
    can_view_merchants = request.user.has_perm(VIEW_MERCHANT)
    counts = merchant_selectors.merchant_status_counts() if can_view_merchants else {}
    return render(
        request,
        "adminpanel/index.html",
        {"section": "home", "counts": counts, "can_view_merchants": can_view_merchants},
    )


@staff_required(VIEW_MERCHANT)
def merchant_list(request: HttpRequest) -> HttpResponse:
    form = MerchantFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    merchants = merchant_selectors.merchant_list(status=filters.get("status", ""), search=filters.get("q", ""))
    page_obj = Paginator(merchants, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "section": "merchants",
        "form": form,
        "filtered": any(filters.values()),
        "page_obj": page_obj,
    }
    return render(request, "adminpanel/merchant_list.html", context)


@staff_required(VIEW_MERCHANT)
def merchant_queue(request: HttpRequest) -> HttpResponse:
    page_obj = Paginator(merchant_selectors.merchant_review_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "adminpanel/merchant_queue.html", {"section": "queue", "page_obj": page_obj})


def _detail(request: HttpRequest, merchant: Merchant, *, status: int = 200, **forms: Any) -> HttpResponse:
    events = merchant_selectors.audit_events_of(merchant=merchant)
    context = {
        "section": "merchants",
        "merchant": merchant,
        "members": merchant_selectors.members_of(merchant=merchant),
        "location_count": merchant.locations.count(),
        "events_page": Paginator(events, PAGE_SIZE).get_page(request.GET.get("page")),
        "labels": merchant_services.AuditAction.LABELS,
        "can_change": request.user.has_perm(CHANGE_MERCHANT),
        "reject_form": forms.get("reject_form") or ReasonForm(prefix="reject"),
        "suspend_form": forms.get("suspend_form") or ReasonForm(prefix="suspend"),
        "reinstate_form": forms.get("reinstate_form") or NoteForm(prefix="reinstate"),
    }
    return render(request, "adminpanel/merchant_detail.html", context, status=status)


@staff_required(VIEW_MERCHANT)
def merchant_detail(request: HttpRequest, merchant_id: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Merchant, pk=merchant_id))


def _act(
    request: AuthenticatedHttpRequest,
    merchant_id: int,
    *,
    action: Callable[..., Merchant],
    audit: str,
    done: str,
    form_class: type | None = None,
    prefix: str = "",
    field: str = "",
) -> HttpResponse:
    merchant = get_object_or_404(Merchant, pk=merchant_id)
    arguments: dict[str, Any] = {"merchant": merchant, "actor": request.user}
    form = None
    if form_class is not None:
        form = form_class(request.POST, prefix=prefix)
        if not form.is_valid():
            return _detail(request, merchant, status=400, **{f"{prefix}_form": form})
        arguments[field] = form.cleaned_data[field]
    try:
        with transaction.atomic():
            before = merchant.status
            changed = action(**arguments)
            detail = {field: arguments[field]} if field else {}
            record_staff_action(
                actor=request.user,
                action=audit,
                target=changed,
                summary=done.format(name=f"Merchant {changed.pk}"),
                before={"status": before},
                after={"status": changed.status, **detail},
            )
    except DomainError as error:
        if form is not None:
            form_error_from(form, error)
            return _detail(request, merchant, status=error.http_status, **{f"{prefix}_form": form})
        messages.error(request, error.message)
    else:
        messages.success(request, done.format(name=merchant.display_name))
    return redirect("adminpanel:merchant_detail", merchant_id=merchant.pk)


@require_POST
@staff_required(VIEW_MERCHANT, CHANGE_MERCHANT)
def merchant_approve(request: AuthenticatedHttpRequest, merchant_id: int) -> HttpResponse:
    return _act(
        request,
        merchant_id,
        action=merchant_services.merchant_approve,
        audit="merchant.approve",
        done="{name} was approved.",
    )


@require_POST
@staff_required(VIEW_MERCHANT, CHANGE_MERCHANT)
def merchant_reject(request: AuthenticatedHttpRequest, merchant_id: int) -> HttpResponse:
    return _act(
        request,
        merchant_id,
        action=merchant_services.merchant_reject,
        audit="merchant.reject",
        done="The application of {name} was rejected.",
        form_class=ReasonForm,
        prefix="reject",
        field="reason",
    )


@require_POST
@staff_required(VIEW_MERCHANT, CHANGE_MERCHANT)
def merchant_suspend(request: AuthenticatedHttpRequest, merchant_id: int) -> HttpResponse:
    return _act(
        request,
        merchant_id,
        action=merchant_services.merchant_suspend,
        audit="merchant.suspend",
        done="{name} was suspended: its purchases earn no new rewards.",
        form_class=ReasonForm,
        prefix="suspend",
        field="reason",
    )


@require_POST
@staff_required(VIEW_MERCHANT, CHANGE_MERCHANT)
def merchant_reinstate(request: AuthenticatedHttpRequest, merchant_id: int) -> HttpResponse:
    return _act(
        request,
        merchant_id,
        action=merchant_services.merchant_reinstate,
        audit="merchant.reinstate",
        done="{name} was reinstated.",
        form_class=NoteForm,
        prefix="reinstate",
        field="note",
    )
