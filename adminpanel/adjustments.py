"""Manual adjustments with a second approver (/staff/adjustments/, F-X3): the list with filters and
totals, proposing one, its detail page, and approving or rejecting it — thin doors onto
wallet.adjustments; the four-eyes rule is the service's (and the database's)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from adminpanel.adjustment_forms import AdjustmentProposeForm, AdjustmentRejectForm
from cashback.errors import DomainError, form_error_from
from wallet import adjustment_selectors, adjustments
from wallet.models import Adjustment, AdjustmentStatus
from wallet.staff_filters import MoneyFilterForm

PAGE_SIZE = 25
VIEW = "wallet.view_adjustment"
PROPOSE = "wallet.add_adjustment"
APPROVE = "wallet.approve_adjustment"


@staff_required(VIEW)
def adjustment_list(request: HttpRequest) -> HttpResponse:
    form = MoneyFilterForm(request.GET or None, statuses=AdjustmentStatus.choices)
    chosen = form.apply(adjustment_selectors.adjustment_list(), currency_field="account__currency")
    context = {
        "section": "adjustments",
        "form": form,
        "filtered": bool(form.filters()),
        "totals": adjustment_selectors.adjustment_totals(chosen),
        "page_obj": Paginator(chosen, PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "adminpanel/adjustment_list.html", context)


@staff_required(VIEW, PROPOSE)
def adjustment_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    initial = {"account_kind": "consumer_available"}
    if request.GET.get("user", "").isdigit():
        initial["owner_id"] = request.GET["user"]
    form = AdjustmentProposeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            adjustment = adjustments.adjustment_propose(
                actor=request.user,
                kind=data["account_kind"],
                currency=data["currency"],
                direction=data["direction"],
                amount_minor=data["amount_minor"],
                reason=data["reason"],
                user=data["user"],
                owner_key=data["owner_key"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                _("Adjustment %(pk)s proposed; another finance person must approve it.") % {"pk": adjustment.pk},
            )
            return redirect("adminpanel:adjustment_detail", adjustment_id=adjustment.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "adminpanel/adjustment_new.html", {"section": "adjustments", "form": form}, status=status)


def _detail(
    request: HttpRequest, adjustment_id: int, *, reject_form: AdjustmentRejectForm | None = None, status: int = 200
) -> HttpResponse:
    try:
        adjustment = adjustment_selectors.adjustment_detail(adjustment_id=adjustment_id)
    except Adjustment.DoesNotExist as missing:
        raise Http404("No such adjustment.") from missing
    user = request.user
    may_decide = (
        adjustment.status == AdjustmentStatus.PROPOSED
        and user.has_perm(APPROVE)
        and adjustment.proposed_by_id != user.pk
    )
    context = {
        "section": "adjustments",
        "adjustment": adjustment,
        "may_decide": may_decide,
        "own_proposal": adjustment.proposed_by_id == user.pk,
        "reject_form": reject_form or AdjustmentRejectForm(),
    }
    return render(request, "adminpanel/adjustment_detail.html", context, status=status)


@staff_required(VIEW)
def adjustment_detail(request: HttpRequest, adjustment_id: int) -> HttpResponse:
    return _detail(request, adjustment_id)


@staff_required(VIEW, APPROVE)
@require_POST
def adjustment_approve(request: AuthenticatedHttpRequest, adjustment_id: int) -> HttpResponse:
    _exists_or_404(adjustment_id)
    try:
        adjustments.adjustment_approve(adjustment_id=adjustment_id, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(request, adjustment_id, status=error.http_status)
    messages.success(
        request, _("Adjustment %(adjustment_id)s approved and posted to the ledger.") % {"adjustment_id": adjustment_id}
    )
    return redirect("adminpanel:adjustment_detail", adjustment_id=adjustment_id)


@staff_required(VIEW, APPROVE)
@require_POST
def adjustment_reject(request: AuthenticatedHttpRequest, adjustment_id: int) -> HttpResponse:
    _exists_or_404(adjustment_id)
    form = AdjustmentRejectForm(request.POST)
    if not form.is_valid():
        return _detail(request, adjustment_id, reject_form=form, status=400)
    try:
        adjustments.adjustment_reject(adjustment_id=adjustment_id, actor=request.user, note=form.cleaned_data["note"])
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(request, adjustment_id, status=error.http_status)
    messages.success(
        request, _("Adjustment %(adjustment_id)s rejected; nothing was posted.") % {"adjustment_id": adjustment_id}
    )
    return redirect("adminpanel:adjustment_detail", adjustment_id=adjustment_id)


def _exists_or_404(adjustment_id: int) -> None:
    if not adjustment_selectors.adjustment_exists(adjustment_id=adjustment_id):
        raise Http404("No such adjustment.")
