"""The staff pages of transaction monitoring (/staff/monitoring/): the purchase search with each
purchase's flags, the flag list and one flag with its decisions. Support may look and hold a flag's
rewards; finance and administrators may also clear and escalate (STAFF_ROLE_PERMISSIONS)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from campaigns.models import Purchase
from cashback.errors import DomainError
from monitoring import selectors, services
from monitoring.forms import FlagDecisionForm, PurchaseSearchForm
from monitoring.models import FlagRule, FlagStatus, FraudFlag

PAGE_SIZE = 25
VIEW_FLAG = "monitoring.view_fraudflag"
HOLD_FLAG = "monitoring.hold_fraudflag"
CLEAR_FLAG = "monitoring.clear_fraudflag"
ESCALATE_FLAG = "monitoring.escalate_fraudflag"


@staff_required(VIEW_FLAG)
def purchase_search(request: HttpRequest) -> HttpResponse:
    form = PurchaseSearchForm(request.GET or None)
    if not form.is_bound:
        purchases = selectors.purchase_search(filters=selectors.PurchaseFilters())
    elif form.is_valid():
        purchases = selectors.purchase_search(filters=form.filters())
    else:
        purchases = Purchase.objects.none()  # the form shows what to correct
    context = {
        "section": "monitoring",
        "form": form,
        "page_obj": Paginator(purchases, PAGE_SIZE).get_page(request.GET.get("page")),
        "counts": selectors.flag_counts(),
    }
    return render(request, "monitoring/purchase_search.html", context)


@staff_required(VIEW_FLAG)
def flag_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    status = status if status in FlagStatus.values or status == "" else "open"
    rule = request.GET.get("rule", "")
    rule = rule if rule in FlagRule.values else ""
    context = {
        "section": "monitoring",
        "status": status,
        "rule": rule,
        "statuses": FlagStatus.choices,
        "rules": FlagRule.choices,
        "page_obj": Paginator(selectors.flag_list(status=status, rule=rule), PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
        "counts": selectors.flag_counts(),
    }
    return render(request, "monitoring/flag_list.html", context)


def _flag_page(request: HttpRequest, flag: FraudFlag, form: FlagDecisionForm, status: int = 200) -> HttpResponse:
    user = request.user
    open_or_held = flag.status in (FlagStatus.OPEN, FlagStatus.HELD)
    context = {
        "section": "monitoring",
        "flag": flag,
        "form": form,
        "can_hold": flag.status == FlagStatus.OPEN and user.has_perm(HOLD_FLAG),
        "can_clear": open_or_held and user.has_perm(CLEAR_FLAG),
        "can_escalate": open_or_held and user.has_perm(ESCALATE_FLAG),
    }
    return render(request, "monitoring/flag_detail.html", context, status=status)


@staff_required(VIEW_FLAG)
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = get_object_or_404(selectors.flag_list(), pk=flag_id)
    return _flag_page(request, flag, FlagDecisionForm())


DECISIONS = {
    "hold": (services.flag_hold, "The flag's rewards are held; they will not mature until it is cleared."),
    "clear": (services.flag_clear, "The flag is cleared; its rewards mature as usual."),
    "escalate": (services.flag_escalate, "The flag is escalated to blocking."),
}


def _decide(request: AuthenticatedHttpRequest, flag_id: int, decision: str) -> HttpResponse:
    flag = get_object_or_404(selectors.flag_list(), pk=flag_id)
    form = FlagDecisionForm(request.POST)
    if not form.is_valid():
        return _flag_page(request, flag, form, status=400)
    service, message = DECISIONS[decision]
    try:
        service(flag=flag, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("monitoring:flag_detail", flag_id=flag.pk)
    messages.success(request, message)
    return redirect("monitoring:flag_detail", flag_id=flag.pk)


@require_POST
@staff_required(VIEW_FLAG, HOLD_FLAG)
def flag_hold(request: AuthenticatedHttpRequest, flag_id: int) -> HttpResponse:
    return _decide(request, flag_id, "hold")


@require_POST
@staff_required(VIEW_FLAG, CLEAR_FLAG)
def flag_clear(request: AuthenticatedHttpRequest, flag_id: int) -> HttpResponse:
    return _decide(request, flag_id, "clear")


@require_POST
@staff_required(VIEW_FLAG, ESCALATE_FLAG)
def flag_escalate(request: AuthenticatedHttpRequest, flag_id: int) -> HttpResponse:
    return _decide(request, flag_id, "escalate")
