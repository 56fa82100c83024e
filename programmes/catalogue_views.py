"""The member's rewards catalogue in the wallet (``/wallet/rewards/``): browse, an item, the redemption's
confirmation, their vouchers and the SMS claim. Thin: reads through ``catalogue_selectors``, writes through
``catalogue`` and ``vouchers``; domain errors become messages or form errors, never a 500."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.request_types import AuthenticatedHttpRequest
from cashback.errors import DomainError, form_error_from
from programmes import catalogue, catalogue_selectors, vouchers
from programmes.catalogue_forms import ClaimCodeForm, RedeemForm
from programmes.catalogue_models import RewardItem, VoucherCode
from wallet.points import points_balance

ITEMS_PER_PAGE = 24


@login_required
def browse(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(catalogue_selectors.catalogue_items(), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "programmes/catalogue/browse.html",
        {"page": page, "points": points_balance(user=request.user), "section": "rewards"},
    )


def _live_item(item_id: int) -> RewardItem:
    return get_object_or_404(catalogue_selectors.catalogue_items(), pk=item_id)


@login_required
def item_detail(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    item = _live_item(item_id)
    return render(
        request,
        "programmes/catalogue/item.html",
        {
            "item": item,
            "refusal": catalogue.item_refusal(item=item, user=request.user),
            "points": points_balance(user=request.user),
            "section": "rewards",
        },
    )


@login_required
def item_image(request: HttpRequest, item_id: int) -> FileResponse:
    item = _live_item(item_id)
    if not item.image:
        raise Http404("No picture.")
    return FileResponse(item.image.open("rb"), content_type="image/*")


@login_required
def redeem(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    """GET: the confirmation (what it costs, what is left after). POST: redeem, then the voucher."""
    item = _live_item(item_id)
    form = RedeemForm(request.POST or None, initial={"request_key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            redemption = catalogue.catalogue_redeem(
                user=request.user, item=item, request_key=form.cleaned_data["request_key"]
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            if redemption.voucher_id is None:  # an earlier failure of the same confirmation
                messages.error(request, redemption.failure or gettext("This reward could not be issued."))
                return redirect("catalogue:item", item.pk)
            messages.success(request, gettext("Redeemed. Claim your voucher with the code we send by SMS."))
            return redirect("catalogue:voucher", redemption.voucher_id)
    points = points_balance(user=request.user)
    return render(
        request,
        "programmes/catalogue/redeem.html",
        {
            "item": item,
            "form": form,
            "refusal": catalogue.item_refusal(item=item, user=request.user),
            "points": points,
            "points_after": points - item.price if item.is_points else None,
            "section": "rewards",
        },
    )


@login_required
def voucher_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(catalogue_selectors.member_vouchers(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "programmes/catalogue/vouchers.html", {"page": page, "section": "rewards"})


def _held(request: AuthenticatedHttpRequest, voucher_id: int) -> VoucherCode:
    return get_object_or_404(
        catalogue_selectors.member_vouchers(user=request.user).filter(
            status__in=[VoucherCode.Status.ISSUED, VoucherCode.Status.CLAIMED]
        ),
        pk=voucher_id,
    )


@never_cache
@login_required
def voucher_detail(request: AuthenticatedHttpRequest, voucher_id: int) -> HttpResponse:
    """The voucher, masked; the SMS code form. Posting the right code shows the code in full, in this
    one response only (never cached); another look needs another SMS code."""
    voucher = _held(request, voucher_id)
    form = ClaimCodeForm(request.POST or None)
    opened = None
    if request.method == "POST" and form.is_valid():
        try:
            opened = vouchers.claim_verify(user=request.user, voucher_id=voucher.pk, code=form.cleaned_data["code"])
        except DomainError as error:
            form_error_from(form, error)
        else:
            voucher.refresh_from_db()
    user = request.user
    return render(
        request,
        "programmes/catalogue/voucher.html",
        {
            "voucher": voucher,
            "form": form,
            "opened": opened,
            "phone_ready": bool(user.phone and user.phone_verified),
            "phone_hint": user.phone[-3:] if user.phone else "",
            "section": "rewards",
        },
    )


@require_POST
@login_required
def voucher_send_code(request: AuthenticatedHttpRequest, voucher_id: int) -> HttpResponse:
    voucher = _held(request, voucher_id)
    try:
        vouchers.claim_code_send(user=request.user, voucher_id=voucher.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("We sent a code by SMS to your mobile number. It is valid for 5 minutes."))
    return redirect("catalogue:voucher", voucher.pk)
