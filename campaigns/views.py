"""Merchant-portal pages for offers, challenges and line-item rules (F-P1), and the cost preview (F-C6).

Thin doors onto ``campaigns.services``: reads need any role at the merchant, writes need an
editor (owner or manager). Another merchant's offer is a 404, as the decorator does for merchants.
"""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns import selectors, services
from campaigns.describe import describe_offer
from campaigns.errors import OfferNotFoundError
from campaigns.forms import ChallengeForm, LineItemRuleForm, OfferFilterForm, OfferForm
from campaigns.models import Challenge, Offer, OfferStatus
from cashback.errors import DomainError, form_error_from
from merchants.decorators import ANY_ROLE, EDITORS, OWNERS, MerchantRequest, merchant_role_required
from merchants.portal_registry import offer_page_links

PAGE_SIZE = 20
COST_IRRELEVANT_FIELDS = frozenset({"title", "description", "charity_ref", "return_period_days", "version"})


def _portal_context(request: MerchantRequest, **extra: Any) -> dict[str, Any]:
    """What merchants/portal/base.html needs, with the offers section marked current."""
    membership = request.membership
    return {
        "merchant": request.merchant,
        "membership": membership,
        "offers_url": reverse("campaigns:list", args=[membership.merchant_id]),
        "section": "offers",
        "can_edit": membership.role in EDITORS,
        "is_owner": membership.role in OWNERS,
        **extra,
    }


def _offer(request: MerchantRequest, offer_id: int) -> Offer:
    try:
        return selectors.offer_for_merchant(merchant_id=request.merchant.pk, offer_id=offer_id)
    except OfferNotFoundError as error:
        raise Http404(error.message) from error


def _detail_url(offer: Offer) -> str:
    return reverse("campaigns:detail", args=[offer.merchant_id, offer.pk])


@merchant_role_required(*ANY_ROLE)
def offer_list(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    filters = OfferFilterForm(request.GET or None)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    offers = selectors.offer_list(merchant_id=merchant_id, status=status)
    page = Paginator(offers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _portal_context(
        request,
        filters=filters,
        filtered=bool(status),
        page_obj=page,
        counts=selectors.offer_status_counts(merchant_id=merchant_id),
    )
    return render(request, "campaigns/offer_list.html", context)


def _render_offer_form(request: MerchantRequest, form: OfferForm, offer: Offer | None) -> HttpResponse:
    context = _portal_context(request, form=form, offer=offer)
    return render(request, "campaigns/offer_form.html", context, status=400 if form.errors else 200)


@merchant_role_required(*EDITORS)
def offer_create(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    merchant = request.merchant
    if request.method == "POST":
        form = OfferForm(request.POST, merchant=merchant)
        if form.is_valid():
            try:
                offer = services.offer_create(
                    merchant=merchant,
                    actor=request.user,
                    values=form.service_values(),
                    locations=form.cleaned_data["locations"],
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Offer saved as a draft. Submit it for review when it is ready."))
                return redirect(_detail_url(offer))
    else:
        now = timezone.localtime()
        start = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        form = OfferForm(
            merchant=merchant,
            initial={
                "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (start + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
                "percent": 10,
            },
        )
    return _render_offer_form(request, form, None)


@merchant_role_required(*ANY_ROLE)
def offer_detail(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    offer = _offer(request, offer_id)
    locations = list(offer.locations.all())
    context = _portal_context(
        request,
        offer=offer,
        summary=describe_offer(offer, location_names=[location.name for location in locations]),
        locations=locations,
        history=selectors.offer_history(offer=offer)[:20],
        challenges=list(offer.challenges.all()),
        line_item_rules=list(offer.line_item_rules.all()),
        rule_form=LineItemRuleForm(),
        extra_links=offer_page_links(merchant_id=request.merchant.pk, offer_id=offer.pk),
    )
    return render(request, "campaigns/offer_detail.html", context)


@merchant_role_required(*EDITORS)
def offer_edit(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    offer = _offer(request, offer_id)
    merchant = request.merchant
    if request.method == "POST":
        form = OfferForm(request.POST, merchant=merchant)
        if form.is_valid():
            expected = form.cleaned_data.get("version")
            try:
                services.offer_update(
                    offer_id=offer.pk,
                    expected_version=expected if expected is not None else -1,
                    actor=request.user,
                    values=form.service_values(),
                    locations=form.cleaned_data["locations"],
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Offer saved."))
                return redirect(_detail_url(offer))
    else:
        if offer.status not in services.EDITABLE_STATUSES:
            messages.warning(
                request,
                _("Pause the offer before editing it.")
                if offer.status == OfferStatus.LIVE
                else _("This offer cannot be edited now."),
            )
            return redirect(_detail_url(offer))
        form = OfferForm(merchant=merchant, initial=OfferForm.initial_from(offer))
    return _render_offer_form(request, form, offer)


def _status_action(request: MerchantRequest, offer_id: int, action: Any, done: str) -> HttpResponse:
    offer = _offer(request, offer_id)
    try:
        action(offer_id=offer.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(_detail_url(offer))


@merchant_role_required(*EDITORS)
@require_POST
def offer_submit(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    return _status_action(request, offer_id, services.offer_submit_for_review, _("Submitted: our team will review it."))


@merchant_role_required(*EDITORS)
@require_POST
def offer_pause(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    return _status_action(
        request, offer_id, services.offer_pause, _("Offer paused: purchases do not earn from it now.")
    )


@merchant_role_required(*EDITORS)
@require_POST
def offer_resume(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    return _status_action(request, offer_id, services.offer_resume, _("Offer resumed."))


@merchant_role_required(*EDITORS)
@require_POST
def offer_duplicate(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    offer = _offer(request, offer_id)
    copy = services.offer_duplicate(offer_id=offer.pk, actor=request.user)
    messages.success(request, _("Copied as a new draft. Check its dates, then submit it for review."))
    return redirect(_detail_url(copy))


@merchant_role_required(*ANY_ROLE)
def offer_preview(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    """The offer as a consumer sees it in the app and the web wallet."""
    offer = _offer(request, offer_id)
    locations = list(offer.locations.all())
    context = _portal_context(
        request,
        offer=offer,
        summary=describe_offer(offer, location_names=[location.name for location in locations]),
        challenges=list(offer.challenges.all()),
    )
    return render(request, "campaigns/offer_preview.html", context)


@merchant_role_required(*EDITORS)
def cost_preview(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    """The estimated monthly cost of the offer being edited (htmx fragment; a page without JavaScript)."""
    merchant = request.merchant
    estimate = None
    form = OfferForm(request.POST if request.method == "POST" else None, merchant=merchant)
    # The estimate needs the reward and its conditions, not the wording: a form still without a
    # title already gets one.
    valid = form.is_bound and (form.is_valid() or set(form.errors) <= COST_IRRELEVANT_FIELDS)
    if valid:
        values = form.service_values()
        terms = selectors.terms_from_values(
            values,
            offer_id=0,
            merchant_id=merchant.pk,
            location_ids=[location.pk for location in form.cleaned_data["locations"]],
            min_tier=values.get("min_tier"),
        )
        estimate = services.cost_preview(terms=terms, merchant_id=merchant.pk)
    context = _portal_context(request, estimate=estimate, valid=valid, form=form)
    template = "campaigns/_cost_preview.html" if request.htmx else "campaigns/cost_preview_page.html"
    return render(request, template, context)


# --- Challenges ----------------------------------------------------------------------------


def _render_challenge_form(
    request: MerchantRequest, form: ChallengeForm, challenge: Challenge | None = None
) -> HttpResponse:
    context = _portal_context(request, form=form, challenge=challenge)
    return render(request, "campaigns/challenge_form.html", context, status=400 if form.errors else 200)


@merchant_role_required(*EDITORS)
def challenge_create(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    merchant = request.merchant
    if request.method == "POST":
        form = ChallengeForm(request.POST, merchant=merchant)
        if form.is_valid():
            try:
                challenge = services.challenge_save(
                    offer=form.cleaned_data["offer"], values=form.service_values(), actor=request.user
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Challenge added."))
                return redirect(_detail_url(challenge.offer))
    else:
        form = ChallengeForm(merchant=merchant, initial={"offer": request.GET.get("offer")})
    return _render_challenge_form(request, form)


def _challenge(request: MerchantRequest, challenge_id: int) -> Any:
    try:
        return selectors.challenge_for_merchant(merchant_id=request.merchant.pk, challenge_id=challenge_id)
    except OfferNotFoundError as error:
        raise Http404(error.message) from error


@merchant_role_required(*EDITORS)
def challenge_edit(request: MerchantRequest, merchant_id: int, challenge_id: int) -> HttpResponse:
    challenge = _challenge(request, challenge_id)
    merchant = request.merchant
    if request.method == "POST":
        form = ChallengeForm(request.POST, merchant=merchant)
        if form.is_valid():
            try:
                services.challenge_save(
                    offer=form.cleaned_data["offer"],
                    values=form.service_values(),
                    challenge=challenge,
                    actor=request.user,
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Challenge saved."))
                return redirect(_detail_url(challenge.offer))
    else:
        form = ChallengeForm(merchant=merchant, initial=ChallengeForm.initial_from(challenge))
    return _render_challenge_form(request, form, challenge)


@merchant_role_required(*EDITORS)
@require_POST
def challenge_delete(request: MerchantRequest, merchant_id: int, challenge_id: int) -> HttpResponse:
    challenge = _challenge(request, challenge_id)
    offer = challenge.offer
    services.challenge_delete(challenge=challenge, actor=request.user)
    messages.success(request, _("Challenge removed."))
    return redirect(_detail_url(offer))


# --- Line-item rules -----------------------------------------------------------------------


@merchant_role_required(*EDITORS)
def line_rule_create(request: MerchantRequest, merchant_id: int, offer_id: int) -> HttpResponse:
    offer = _offer(request, offer_id)
    form = LineItemRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.line_item_rule_add(offer=offer, values=form.service_values(offer.currency), actor=request.user)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Line-item rule added."))
            return redirect(_detail_url(offer))
    context = _portal_context(request, form=form, offer=offer)
    return render(request, "campaigns/line_rule_form.html", context, status=400 if form.errors else 200)


@merchant_role_required(*EDITORS)
@require_POST
def line_rule_delete(request: MerchantRequest, merchant_id: int, offer_id: int, rule_id: int) -> HttpResponse:
    offer = _offer(request, offer_id)
    rule = offer.line_item_rules.filter(pk=rule_id).first()
    if rule is None:
        raise Http404("No such rule.")
    services.line_item_rule_delete(rule=rule, actor=request.user)
    messages.success(request, _("Line-item rule removed."))
    return redirect(_detail_url(offer))
