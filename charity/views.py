"""Pages: the public charity list and pages, the consumer's giving pages in the web wallet, and the receipt PDF.

Thin doors: they call charity.selectors and charity.services, the same functions as the API.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.request_types import AuthenticatedHttpRequest
from cashback.errors import DomainError, form_error_from
from cashback.formatting import format_money
from cashback.throttling import throttled_post
from charity import receipts, selectors, services
from charity.errors import CharityNotFoundError
from charity.forms import AutoDonateForm, DonateForm
from charity.models import Charity

DONATIONS_PER_PAGE = 20


def _charity_or_404(*, slug: str) -> Charity:
    try:
        return selectors.charity_get(slug=slug)
    except CharityNotFoundError as error:
        raise Http404(error.message) from error


def charity_list(request: HttpRequest) -> HttpResponse:
    """Public: the partner charities and what each has been given in total."""
    charities = list(selectors.charity_list())
    impacts = selectors.charities_impact(charities=charities)
    rows = [(charity, impacts[charity.pk]) for charity in charities]
    return render(request, "charity/list.html", {"rows": rows})


def charity_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Public: one charity, its cause and its total impact; signed-in consumers also see their own."""
    charity = _charity_or_404(slug=slug)
    yours = None
    if request.user.is_authenticated:
        yours = next((i for i in selectors.consumer_impact(user=request.user) if i.charity.pk == charity.pk), None)
    context = {
        "charity": charity,
        "impact": selectors.charity_impact(charity=charity),
        "your_impact": yours,
        "costs": [(c.currency, c.unit_cost_minor) for c in charity.impact_costs.all()],
    }
    return render(request, "charity/detail.html", context)


@login_required
def giving(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The wallet's giving page: your impact, your automatic share, your donations and receipts."""
    user = request.user
    setting = selectors.auto_donate_get(user=user)
    auto_form = AutoDonateForm(
        initial={
            "charity": setting.charity_id if setting else None,
            "share_percent": setting.share_percent if setting else 0,
        }
    )
    return _render_giving(request, auto_form)


def _render_giving(request: AuthenticatedHttpRequest, auto_form: AutoDonateForm, status: int = 200) -> HttpResponse:
    user = request.user
    page = Paginator(selectors.donation_entries(user=user), DONATIONS_PER_PAGE).get_page(request.GET.get("page"))
    donations = selectors.donation_rows(page.object_list)
    impacts = selectors.consumer_impact(user=user)
    charities = list(selectors.charity_list())
    context = {
        "impacts": impacts,
        "by_source": selectors.consumer_impact_by_source(user=user),
        "setting": selectors.auto_donate_get(user=user),
        "auto_form": auto_form,
        "page_obj": page,
        "donations": donations,
        "years": selectors.donation_years(user=user),
        "available": selectors.consumer_available_balances(user=user),
        "charities": charities,
    }
    return render(request, "charity/giving.html", context, status=status)


@login_required
@require_POST
def auto_donate(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AutoDonateForm(request.POST)
    if form.is_valid():
        charity = form.cleaned_data["charity"]
        try:
            setting = services.auto_donate_set(
                user=request.user,
                charity_id=charity.pk if charity else None,
                share_percent=form.cleaned_data["share_percent"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            if setting and setting.share_percent:
                messages.success(
                    request,
                    _("%(percent)s%% of every future reward will go to %(charity)s.")
                    % {"percent": setting.share_percent, "charity": setting.charity.name},
                )
            else:
                messages.success(request, _("Automatic giving is off."))
            return redirect("charity:giving")
    return _render_giving(request, form, status=400)


@login_required
@throttled_post("donations")
def donate(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Donate part or all of the available balance to one charity."""
    charity = _charity_or_404(slug=slug)
    if not charity.is_active:
        messages.warning(request, _("%(charity)s does not take donations at the moment.") % {"charity": charity.name})
        return redirect("charity:detail", slug=charity.slug)
    available = selectors.consumer_available_balances(user=request.user)
    form = DonateForm(request.POST or None, available=available)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                journal = services.donation_give(
                    user=request.user,
                    charity_id=charity.pk,
                    currency=form.cleaned_data["currency"],
                    amount_minor=form.cleaned_data["amount_minor"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                ).journal
            except DomainError as error:
                form_error_from(form, error)
            else:
                entry = journal.entries.get(direction="debit")
                gift = {"amount": format_money(entry.amount, entry.currency), "charity": charity.name}
                messages.success(request, _("Thank you! You gave %(amount)s to %(charity)s.") % gift)
                return redirect("charity:giving")
    context = {
        "charity": charity,
        "form": form,
        "available": available,
        "giving_url": reverse("charity:giving") + "#auto-donate",
    }
    return render(request, "charity/donate.html", context, status=status)


@login_required
def receipt(request: AuthenticatedHttpRequest, year: int) -> HttpResponse:
    """The year's donation receipt as a PDF download."""
    if not 2000 <= year <= timezone.localdate().year:
        raise Http404("No receipt for that year.")
    data = selectors.donation_receipt(user=request.user, year=year)
    response = HttpResponse(receipts.receipt_pdf(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipts.receipt_filename(data)}"'
    return response
