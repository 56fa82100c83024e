"""Staff pages for partner charities (F-H1) and their disbursements (F-X3), under /staff/charities/.

Viewing needs ``charity.view_charity`` (finance and administrators); adding and changing a
charity ``charity.add_charity`` / ``charity.change_charity``; sending a disbursement now
``charity.change_disbursement``. The MFA middleware already keeps out staff without two-factor.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from accounts.staff_audit import record_staff_action
from cashback.errors import DomainError, form_error_from
from charity import selectors, services, tasks
from charity.forms import CharityForm
from charity.models import Charity, Disbursement
from wallet.staff_filters import MoneyFilterForm, money_totals

VIEW = "charity.view_charity"
ADD = "charity.add_charity"
CHANGE = "charity.change_charity"
SEND = "charity.change_disbursement"
PAGE_SIZE = 25


@staff_required(VIEW)
def charity_list(request: HttpRequest) -> HttpResponse:
    charities = list(selectors.charity_list(active_only=False))
    impacts = selectors.charities_impact(charities=charities)
    rows = [(charity, impacts[charity.pk]) for charity in charities]
    return render(request, "charity/staff/list.html", {"section": "charities", "rows": rows})


def _fields(charity: Charity | None) -> dict[str, str]:
    """The charity's form fields as text, for the before / after of its audit entry."""
    return {name: str(getattr(charity, name)) for name in CharityForm.Meta.fields} if charity else {}


def _save(request: AuthenticatedHttpRequest, form: CharityForm, charity: Charity | None) -> Charity | None:
    before = _fields(charity)  # before validation, which writes the form's values onto the instance
    if not form.is_valid():
        return None
    costs = form.impact_costs()
    if form.errors:
        return None
    try:
        with transaction.atomic():
            if charity is None:
                saved = services.charity_create(**form.values(), impact_costs=costs)
            else:
                saved = services.charity_update(charity_id=charity.pk, **form.values(), impact_costs=costs)
            after = _fields(saved)
            changed = [name for name in after if before.get(name) != after[name]]
            record_staff_action(
                actor=request.user,
                action="charity.edit" if charity else "charity.create",
                target=saved,
                summary=f"Charity {saved.pk} {'changed' if charity else 'added'}",
                before={name: before[name] for name in changed if name in before} or None,
                after={name: after[name] for name in changed},
            )
            return saved
    except DomainError as error:
        form_error_from(form, error)
        return None


@staff_required(ADD)
def charity_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CharityForm(request.POST or None)
    if request.method == "POST":
        charity = _save(request, form, None)
        if charity is not None:
            messages.success(request, _("%(name)s added.") % {"name": charity.name})
            return redirect("charity:staff_detail", charity_id=charity.pk)
    status = 400 if form.errors else 200
    return render(request, "charity/staff/form.html", {"section": "charities", "form": form}, status=status)


@staff_required(VIEW)
def charity_detail(request: AuthenticatedHttpRequest, charity_id: int) -> HttpResponse:
    charity = get_object_or_404(Charity.objects.prefetch_related("impact_costs"), pk=charity_id)
    form = CharityForm(request.POST or None, instance=charity)
    if request.method == "POST":
        if not request.user.has_perm(CHANGE):
            raise PermissionDenied("Your staff role cannot change charities.")
        saved = _save(request, form, charity)
        if saved is not None:
            messages.success(request, _("%(name)s saved.") % {"name": saved.name})
            return redirect("charity:staff_detail", charity_id=saved.pk)
    disbursements = Paginator(selectors.disbursement_list(charity=charity), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "section": "charities",
        "charity": charity,
        "form": form,
        "can_change": request.user.has_perm(CHANGE),
        "can_send": request.user.has_perm(SEND),
        "impact": selectors.charity_impact(charity=charity),
        "owed": sorted(selectors.charity_owed(charity=charity).items()),
        "page_obj": disbursements,
    }
    return render(request, "charity/staff/detail.html", context, status=400 if form.errors else 200)


@staff_required(VIEW)
def disbursement_list(request: HttpRequest) -> HttpResponse:
    """Every disbursement, filtered by status, currency and month disbursed (the period's first day
    within the chosen days), with the count and sum per currency of what the filters keep."""
    form = MoneyFilterForm(request.GET or None, statuses=Disbursement.Status.choices)
    chosen = form.apply(selectors.disbursement_list(), date_field="period", date_is_day=True)
    context = {
        "section": "disbursements",
        "form": form,
        "filtered": bool(form.filters()),
        "totals": money_totals(chosen),
        "page_obj": Paginator(chosen, PAGE_SIZE).get_page(request.GET.get("page")),
        "can_send": request.user.has_perm(SEND),
    }
    return render(request, "charity/staff/disbursements.html", context)


@staff_required(SEND)
@require_POST
def disbursement_send(request: AuthenticatedHttpRequest, disbursement_id: int) -> HttpResponse:
    """Send a processing disbursement now (the hourly retry would otherwise): same key, never twice."""
    disbursement = get_object_or_404(Disbursement, pk=disbursement_id)
    if disbursement.status != Disbursement.Status.PROCESSING:
        messages.warning(
            request,
            _("Disbursement %(pk)s is %(status)s.")
            % {"pk": disbursement.pk, "status": disbursement.get_status_display().lower()},
        )
    else:
        with transaction.atomic():
            record_staff_action(
                actor=request.user,
                action="disbursement.send",
                target=disbursement,
                summary=f"Disbursement {disbursement.pk} sent again",
            )
            transaction.on_commit(lambda: tasks.disbursement_send.delay(disbursement.pk))
        messages.success(request, _("Disbursement %(pk)s is being sent again.") % {"pk": disbursement.pk})
    return redirect("charity:staff_disbursements")
