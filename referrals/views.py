"""Server-rendered doors of the referral programme.

- ``/r/<code>/``: a friend's link. Remembers the code (session + signed cookie, kept by
  ``accounts.visitor``) and the device, and sends the visitor to sign-up; sign-up announces
  ``user_signed_up`` with the code, and ``referrals.handlers`` links the friend.
- ``/wallet/referrals/``: the consumer's code, link, friends, businesses and earnings.
- ``/staff/referrals/…``: the review queue and the programme editor (staff with the referrals
  permissions: the marketing and administrator roles).

Views are thin: they read through selectors and call one service, turning domain errors into
messages or form errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import visitor
from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from accounts.staff_audit import record_staff_action
from cashback.errors import DomainError, form_error_from
from cashback.throttling import throttled_post
from referrals import selectors, services
from referrals.forms import BusinessReferralForm, ProgramForm, ReviewForm
from referrals.services import ReviewSignal

if TYPE_CHECKING:
    from referrals.models import Referral

REVIEW_PERMISSION = "referrals.change_referral"
PROGRAM_PERMISSION = "referrals.add_referralprogram"
PAGE_SIZE = 25


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def share_links(code: str) -> dict[str, str]:
    return {
        "link": absolute(reverse("referrals:link", kwargs={"code": code})),
        "partner_link": absolute(reverse("partners:index")) + f"?ref={code}",
    }


# --- A friend's link ----------------------------------------------------------------------------------


def referral_link(request: HttpRequest, code: str) -> HttpResponse:
    """A friend's invitation. Unknown codes and signed-in visitors get a plain explanation."""
    normalized = visitor.normalize_code(code)
    referrer_code = selectors.referral_code_lookup(code=normalized)
    if referrer_code is None:
        return render(request, "referrals/link_unknown.html", {"code": code}, status=404)
    if request.user.is_authenticated:
        try:
            services.referral_claim(user=request.user, code=normalized)
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("referrals:wallet")
    program = services.program_current()
    currency = settings.DEFAULT_CURRENCY
    context = {
        "referrer_name": selectors.friend_label(referrer_code.user),
        "code": referrer_code.code,
        "program": program,
        "amounts": program.amounts_for(currency) or next(iter(program.amounts.all()), None),
    }
    response = render(request, "referrals/link.html", context)
    visitor.remember_code(request, response, referrer_code.code)
    visitor.ensure_device_cookie(request, response)
    return response


# --- The consumer's page -------------------------------------------------------------------------------


def _wallet_context(request: AuthenticatedHttpRequest, business_form: BusinessReferralForm) -> dict[str, Any]:
    user = request.user
    code = services.referral_code_for(user=user)
    program = services.program_current()
    referrals = Paginator(selectors.referrals_made(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "code": code.code,
        **share_links(code.code),
        "program": program,
        "amounts": program.amounts_for(settings.DEFAULT_CURRENCY) or next(iter(program.amounts.all()), None),
        "earned": selectors.referral_earnings(user=user).as_decimal_strings(),
        "page_obj": referrals,
        "friends": [(referral, selectors.friend_label(referral.friend)) for referral in referrals.object_list],
        "business_referrals": list(selectors.business_referrals_made(user=user)[:50]),
        "referred_by": selectors.referral_of_friend(friend=user),
        "business_form": business_form,
    }


@login_required
def wallet_referrals(request: AuthenticatedHttpRequest) -> HttpResponse:
    response = render(request, "referrals/wallet.html", _wallet_context(request, BusinessReferralForm()))
    device = visitor.ensure_device_cookie(request, response)
    services.device_sighting_record(user=request.user, device_id=device, ip=visitor.client_ip(request))
    return response


@login_required
@require_POST
@throttled_post("referrals")
def business_submit(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = BusinessReferralForm(request.POST)
    if form.is_valid():
        try:
            referral = services.business_referral_submit(referrer=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                _("Thank you — we will pay your bonus when %(business)s is approved and launches its first offer.")
                % {"business": referral.business_name},
            )
            return redirect("referrals:wallet")
    return render(request, "referrals/wallet.html", _wallet_context(request, form), status=400)


# --- Staff -----------------------------------------------------------------------------------------------


@staff_required(REVIEW_PERMISSION)
def staff_queue(request: HttpRequest) -> HttpResponse:
    page_obj = Paginator(selectors.review_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/staff/queue.html",
        {"section": "referrals", "page_obj": page_obj, "counts": selectors.status_counts()},
    )


def _staff_referral(referral_id: int) -> Any:
    referral = selectors.referral_for_staff(referral_id=referral_id)
    if referral is None:
        raise Http404("No such referral.")
    return referral


def _render_review(request: HttpRequest, referral: Referral, form: ReviewForm, status: int = 200) -> HttpResponse:
    context = {
        "section": "referrals",
        "referral": referral,
        "signals": [ReviewSignal.LABELS.get(signal, signal) for signal in referral.review_reasons],
        "related": selectors.related_referrals(referral=referral),
        "form": form,
    }
    return render(request, "referrals/staff/review.html", context, status=status)


@staff_required(REVIEW_PERMISSION)
def staff_review(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _render_review(request, _staff_referral(referral_id), ReviewForm())


@staff_required(REVIEW_PERMISSION)
@require_POST
def staff_decide(request: AuthenticatedHttpRequest, referral_id: int) -> HttpResponse:
    referral = _staff_referral(referral_id)
    form = ReviewForm(request.POST)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject") or not form.is_valid():
        form.add_error(None, _("Choose to approve or reject."))
        return _render_review(request, referral, form, status=400)
    reason = form.cleaned_data["reason"]
    try:
        with transaction.atomic():
            if decision == "approve":
                result = services.referral_review_approve(referral_id=referral.pk, actor=request.user)
            else:
                result = services.referral_review_reject(referral_id=referral.pk, actor=request.user, reason=reason)
            record_staff_action(
                actor=request.user,
                action="referral.decide",
                target=result,
                summary=f"Referral {referral.pk}: {decision}",
                before={"status": referral.status},
                after={"status": result.status, "decision": decision, "reason": reason},
            )
    except DomainError as error:
        form_error_from(form, error)
        return _render_review(request, _staff_referral(referral_id), form, status=error.http_status)
    if decision == "approve":
        messages.success(
            request,
            _("Referral %(pk)s: %(status)s.") % {"pk": result.pk, "status": result.get_status_display().lower()},
        )
    else:
        messages.success(request, _("Referral %(pk)s rejected.") % {"pk": referral.pk})
    return redirect("referrals_staff:queue")


@staff_required(PROGRAM_PERMISSION)
def staff_program(request: AuthenticatedHttpRequest) -> HttpResponse:
    program = services.program_current()
    form = ProgramForm(request.POST or None, program=program)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    new = services.program_version_create(
                        actor=request.user,
                        based_on_version=data["based_on_version"],
                        qualification_window_days=data["qualification_window_days"],
                        monthly_cap=data["monthly_cap"],
                        review_window_hours=data["review_window_hours"],
                        amounts=data["amounts"],
                        note=data["note"],
                    )
                    record_staff_action(
                        actor=request.user,
                        action="referral_program.edit",
                        target=new,
                        summary=f"Referral programme version {new.version}",
                        before={"version": program.version},
                        after={
                            "version": new.version,
                            "qualification_window_days": new.qualification_window_days,
                            "monthly_cap": new.monthly_cap,
                            "review_window_hours": new.review_window_hours,
                        },
                    )
            except DomainError as error:
                form_error_from(form, error)
                status = error.http_status
            else:
                messages.success(
                    request,
                    _("Version %(version)s saved. It applies to referrals made from now on.")
                    % {"version": new.version},
                )
                return redirect("referrals_staff:program")
        else:
            status = 400
    context = {
        "section": "referral_program",
        "form": form,
        "program": program,
        "versions": selectors.program_versions(),
    }
    return render(request, "referrals/staff/program.html", context, status=status)
