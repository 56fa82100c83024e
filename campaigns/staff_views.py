"""Staff pages: the offer review queue (F-X2). Staff with ``campaigns.change_offer`` only (marketing,
administrators); the MFA middleware already keeps out staff without two-factor authentication."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from accounts.staff_audit import record_staff_action
from campaigns import selectors, services
from campaigns.describe import describe_offer
from campaigns.errors import OfferNotFoundError
from campaigns.forms import ReviewForm
from cashback.errors import DomainError, form_error_from

if TYPE_CHECKING:
    from campaigns.models import Offer

REVIEW_PERMISSION = "campaigns.change_offer"


@staff_required(REVIEW_PERMISSION)
def review_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.offer_review_queue(), 25).get_page(request.GET.get("page"))
    return render(request, "campaigns/staff/queue.html", {"page_obj": page})


def _offer(offer_id: int) -> Any:
    try:
        return selectors.offer_for_review(offer_id=offer_id)
    except OfferNotFoundError as error:
        raise Http404(error.message) from error


def _render_review(request: HttpRequest, offer: Offer, form: ReviewForm, status: int = 200) -> HttpResponse:
    locations = list(offer.locations.all())
    context = {
        "offer": offer,
        "summary": describe_offer(offer, location_names=[location.name for location in locations]),
        "history": selectors.offer_history(offer=offer)[:20],
        "form": form,
    }
    return render(request, "campaigns/staff/review.html", context, status=status)


@staff_required(REVIEW_PERMISSION)
def review(request: HttpRequest, offer_id: int) -> HttpResponse:
    return _render_review(request, _offer(offer_id), ReviewForm())


@staff_required(REVIEW_PERMISSION)
@require_POST
def decide(request: AuthenticatedHttpRequest, offer_id: int) -> HttpResponse:
    offer = _offer(offer_id)
    form = ReviewForm(request.POST)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject") or not form.is_valid():
        form.add_error(None, _("Choose to approve or reject."))
        return _render_review(request, offer, form, status=400)
    reason = form.cleaned_data["reason"]
    decide_offer = services.offer_approve if decision == "approve" else services.offer_reject
    try:
        with transaction.atomic():
            decided = decide_offer(offer_id=offer.pk, actor=request.user, reason=reason)
            record_staff_action(
                actor=request.user,
                action="offer.decide",
                target=decided,
                summary=f"Offer {offer.pk}: {decision}",
                before={"status": offer.status},
                after={"status": decided.status, "decision": decision, "reason": reason},
            )
    except DomainError as error:
        form_error_from(form, error)
        return _render_review(request, offer, form, status=400)
    if decision == "approve":
        messages.success(request, _("“%(title)s” approved.") % {"title": offer.title})
    else:
        messages.success(request, _("“%(title)s” sent back to the merchant.") % {"title": offer.title})
    return redirect("campaigns_staff:queue")
