"""Web wallet pages for money out: payouts (with Stripe onboarding), spend codes, and the staff
review of held payouts. Thin doors onto wallet.payouts and wallet.spending."""

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from accounts.staff_audit import record_staff_action
from cashback.errors import DomainError, form_error_from
from cashback.formatting import format_money
from cashback.forms import GuardedForm
from cashback.providers.stripe_gateway import StripeGatewayError
from cashback.throttling import throttled_post
from wallet import payout_app_links, payouts, spending
from wallet.models import Currency, Payout, PayoutAccount, PayoutStatus
from wallet.money import minor_to_decimal_string, parse_amount
from wallet.selectors import wallet_balances
from wallet.spend_qr import spend_code_svg
from wallet.staff_filters import MoneyFilterForm, money_totals

PAYOUTS_PER_PAGE = 20
STAFF_PAYOUTS_PER_PAGE = 25


class PayoutRequestForm(GuardedForm):
    amount = forms.CharField(
        max_length=32,
        label="Amount",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}),
    )
    currency = forms.ChoiceField(choices=Currency.choices, label="Currency")

    def clean(self) -> dict:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned = self.cleaned_data
        amount, currency = cleaned.get("amount"), cleaned.get("currency")
        if amount and currency:
            try:
                cleaned["amount_minor"] = parse_amount(amount, currency)
            except DomainError as error:
                self.add_error("amount", error.message)
        return cleaned


class PayoutRejectForm(GuardedForm):
    reason = forms.CharField(max_length=300, label="Reason (shown to the consumer)")


def _currencies_with_money(request: AuthenticatedHttpRequest) -> list[tuple[str, str]]:
    balances = wallet_balances(user=request.user)
    return [(b.currency, b.currency) for b in balances if b.available > 0] or [
        (settings.DEFAULT_CURRENCY, settings.DEFAULT_CURRENCY)
    ]


@login_required
@throttled_post("payouts")
def payouts_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up payouts, ask for one, and see every payout with its status."""
    account = PayoutAccount.objects.filter(user=request.user).first()
    balances = wallet_balances(user=request.user)
    form = PayoutRequestForm(request.POST or None)
    cast(forms.ChoiceField, form.fields["currency"]).choices = _currencies_with_money(request)
    if request.method == "POST" and form.is_valid():
        try:
            payout = payouts.payout_request(
                user=request.user,
                amount_minor=form.cleaned_data["amount_minor"],
                currency=form.cleaned_data["currency"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            amount_text = format_money(payout.amount, payout.currency)
            if payout.fee:
                amount_text = _("%(amount)s (%(net)s to your bank after the fee)") % {
                    "amount": amount_text,
                    "net": format_money(payout.net_amount, payout.currency),
                }
            amount = {"amount": amount_text}
            if payout.status == PayoutStatus.HELD:
                messages.info(
                    request, _("Your payout of %(amount)s is waiting for a quick review by our team.") % amount
                )
            else:
                messages.success(request, _("Your payout of %(amount)s is on its way.") % amount)
            return redirect("wallet:payouts")
    history = Paginator(
        Payout.objects.filter(user=request.user).order_by("-created_at", "-id"), PAYOUTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    minimums = [(b.currency, minor_to_decimal_string(payouts.payout_minimum(b.currency), b.currency)) for b in balances]
    fees = [
        (b.currency, minor_to_decimal_string(payouts.payout_fee(b.currency), b.currency))
        for b in balances
        if payouts.payout_fee(b.currency)
    ]
    return render(
        request,
        "wallet/payouts.html",
        {
            "account": account,
            "balances": balances,
            "form": form,
            "page": history,
            "minimums": minimums,
            "fees": fees,
            "section": "payouts",
        },
    )


@login_required
@require_POST
@throttled_post("payouts")
def payouts_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Start (or resume) Stripe's onboarding: off to Stripe's hosted pages."""
    return _to_onboarding(request)


def _to_onboarding(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        url = payouts.payout_account_start(
            user=request.user,
            refresh_url=request.build_absolute_uri(reverse("wallet:payouts-setup-refresh")),
            return_url=request.build_absolute_uri(reverse("wallet:payouts-setup-return")),
        )
    except StripeGatewayError:
        messages.error(request, _("Stripe could not be reached. Please try again in a minute."))
        return redirect("wallet:payouts")
    return HttpResponseRedirect(url)


@login_required
def payouts_setup_return(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Back from Stripe: ask Stripe how far the consumer got."""
    try:
        account = payouts.payout_account_refresh(user=request.user)
    except StripeGatewayError:
        account = PayoutAccount.objects.filter(user=request.user).first()
        messages.warning(request, _("We could not check with Stripe just now; the page updates when Stripe tells us."))
        return redirect("wallet:payouts")
    if account is None:
        return redirect("wallet:payouts")
    if account.is_ready:
        messages.success(request, _("Payouts are set up. You can now pay your cashback out to your bank account."))
    else:
        messages.warning(request, _("Stripe still needs some details before payouts can start. Continue the set-up."))
    return redirect("wallet:payouts")


@login_required
def payouts_setup_refresh(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Stripe's link expired or was used: make a fresh one and go back."""
    return _to_onboarding(request)


def payouts_app_return(request: HttpRequest, token: str) -> HttpResponse:
    """Back from Stripe's onboarding opened by the app: the signed link stands in for the cookie."""
    user = payout_app_links.payout_app_link_user(token=token)
    if user is None:
        return render(request, "wallet/payouts_app_return.html", {"state": "link_expired"}, status=400)
    try:
        account = payouts.payout_account_refresh(user=user)
    except StripeGatewayError:
        return render(request, "wallet/payouts_app_return.html", {"state": "unknown"})
    state = "ready" if account is not None and account.is_ready else "incomplete"
    return render(request, "wallet/payouts_app_return.html", {"state": state})


def payouts_app_refresh(request: HttpRequest, token: str) -> HttpResponse:
    """Stripe's link for the app expired or was used: only the app can make a fresh one."""
    return render(request, "wallet/payouts_app_return.html", {"state": "link_expired"})


@login_required
@throttled_post("spend_codes")
def spend_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pay with cashback at a checkout: a one-time code, as text and as a QR code."""
    balances = wallet_balances(user=request.user)
    spend = None
    qr_svg = ""
    available = ""
    if request.method == "POST":
        currency = request.POST.get("currency") or settings.DEFAULT_CURRENCY
        try:
            spend = spending.spend_code_issue(user=request.user, currency=currency)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("wallet:spend")
        qr_svg = spend_code_svg(spend.code)
        available = next(
            (minor_to_decimal_string(b.available, b.currency) for b in balances if b.currency == currency), "0.00"
        )
    return render(
        request,
        "wallet/spend.html",
        {
            "balances": balances,
            "spend": spend,
            "display_code": spending.display_code(spend.code) if spend else "",
            "qr_svg": qr_svg,
            "available": available,
            "ttl_minutes": max(1, settings.SPEND_CODE_TTL_SECONDS // 60),
            "section": "spend",
            "can_spend": any(balance.available > 0 for balance in balances),
        },
    )


# --- Staff: payouts held for review -----------------------------------------------------


@staff_required("wallet.view_payout")
def staff_payouts(request: HttpRequest) -> HttpResponse:
    """Payouts held for review (release or reject), failed ones whose transfer still needs reversing,
    and every payout, filtered by status, currency and day requested, with totals per currency."""
    held = Payout.objects.filter(status=PayoutStatus.HELD).select_related("user").order_by("created_at")
    attention = (
        Payout.objects.filter(reversal_needed=True, stripe_reversal_id="").select_related("user").order_by("failed_at")
    )
    form = MoneyFilterForm(request.GET or None, statuses=PayoutStatus.choices)
    chosen = form.apply(Payout.objects.select_related("user", "reviewed_by").order_by("-created_at", "-id"))
    return render(
        request,
        "wallet/staff_payouts.html",
        {
            "held": held,
            "attention": attention,
            "form": form,
            "filtered": bool(form.filters()),
            "totals": money_totals(chosen, amount_field="amount"),
            "page_obj": Paginator(chosen, STAFF_PAYOUTS_PER_PAGE).get_page(request.GET.get("page")),
            "reject_form": PayoutRejectForm(),
            "threshold": settings.PAYOUT_REVIEW_THRESHOLD_MINOR,
            "section": "payouts",
        },
    )


@staff_required("wallet.view_payout")
def staff_payouts_failed(request: HttpRequest) -> HttpResponse:
    """Failed payouts with Stripe's reason, filtered by currency and day failed, with totals."""
    form = MoneyFilterForm(request.GET or None)
    del form.fields["status"]
    failed = Payout.objects.filter(status=PayoutStatus.FAILED).select_related("user").order_by("-failed_at", "-id")
    chosen = form.apply(failed, date_field="failed_at")
    return render(
        request,
        "wallet/staff_payouts_failed.html",
        {
            "form": form,
            "filtered": bool(form.filters()),
            "totals": money_totals(chosen, amount_field="amount"),
            "page_obj": Paginator(chosen, STAFF_PAYOUTS_PER_PAGE).get_page(request.GET.get("page")),
            "section": "payouts",
        },
    )


def _record(
    request: AuthenticatedHttpRequest, action: str, payout: Payout, changed: Payout, summary: str, **detail: str
) -> None:
    """The staff audit entry of a payout decision (inside its transaction): status before and after."""
    record_staff_action(
        actor=request.user,
        action=action,
        target=payout,
        summary=f"{summary} ({payout.pk})",
        before={"status": payout.status},
        after={"status": changed.status, **detail},
    )


@staff_required("wallet.view_payout", "wallet.change_payout")
@require_POST
def staff_payout_release(request: AuthenticatedHttpRequest, payout_id: int) -> HttpResponse:
    payout = get_object_or_404(Payout, pk=payout_id)
    try:
        with transaction.atomic():
            released = payouts.payout_release(payout_id=payout.pk, actor=request.user)
            _record(request, "payout.release", payout, released, "Released a held payout")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Payout %(pk)s released; it is being sent.") % {"pk": payout.pk})
    return redirect("payouts_staff:list")


@staff_required("wallet.view_payout", "wallet.change_payout")
@require_POST
def staff_payout_reject(request: AuthenticatedHttpRequest, payout_id: int) -> HttpResponse:
    payout = get_object_or_404(Payout, pk=payout_id)
    form = PayoutRejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for the rejection."))
        return redirect("payouts_staff:list")
    try:
        with transaction.atomic():
            reason = form.cleaned_data["reason"]
            rejected = payouts.payout_reject(payout_id=payout.pk, actor=request.user, reason=reason)
            _record(request, "payout.reject", payout, rejected, "Rejected a held payout", reason=reason)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Payout %(pk)s rejected; the money is back in the consumer's wallet.") % {"pk": payout.pk}
        )
    return redirect("payouts_staff:list")
