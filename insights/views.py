"""The merchant portal's insights pages: the dashboard and an offer's results (F-P2, F-H3)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from campaigns.models import Offer
from charity.selectors import campaign_impact
from insights.forms import RangeForm, max_range_days
from insights.presentation import insights_context
from merchants.decorators import ANY_ROLE, EDITORS, OWNERS, MerchantRequest, merchant_role_required


def _portal_context(request: MerchantRequest, **extra: Any) -> dict[str, Any]:
    """What merchants/portal/base.html needs, with the insights section marked current."""
    membership = request.membership
    return {
        "merchant": request.merchant,
        "membership": membership,
        "offers_url": f"/portal/{membership.merchant_id}/offers/",
        "section": "insights",
        "can_edit": membership.role in EDITORS,
        "is_owner": membership.role in OWNERS,
        "max_range_days": max_range_days(),
        **extra,
    }


def _range(request: MerchantRequest) -> RangeForm:
    form = RangeForm(request.GET or None, today=timezone.localdate())
    if not request.GET:
        form = RangeForm({"preset": "30"}, today=timezone.localdate())
    return form


@merchant_role_required(*ANY_ROLE)
def dashboard(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    form = _range(request)
    if not form.is_valid():
        return render(request, "insights/dashboard.html", _portal_context(request, form=form), status=400)
    merchant = request.merchant
    figures = insights_context(merchant_id=merchant.pk, currency=merchant.currency, period=form.period())
    return render(request, "insights/dashboard.html", _portal_context(request, form=form, **figures))


@merchant_role_required(*ANY_ROLE)
def offer_results(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    offer = get_object_or_404(Offer, pk=offer_id, merchant=request.merchant)
    form = _range(request)
    context = _portal_context(request, form=form, offer=offer, impacts=campaign_impact(offer_id=offer.pk))
    if not form.is_valid():
        return render(request, "insights/offer_results.html", context, status=400)
    figures = insights_context(
        merchant_id=request.merchant.pk, currency=offer.currency, period=form.period(), offer_id=offer.pk
    )
    return render(request, "insights/offer_results.html", {**context, **figures})
