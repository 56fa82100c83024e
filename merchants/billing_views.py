"""The portal's billing page: statements, the month so far, billing details (docs/billing.md)."""

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cashback.errors import DomainError, form_error_from
from merchants import billing_pdf, billing_selectors
from merchants.billing_forms import BillingDetailsForm
from merchants.decorators import MerchantRequest, merchant_role_required
from merchants.models import ANY_ROLE, EDITORS
from merchants.services.billing_details import billing_details_update
from merchants.views import _portal_context

PAGE_SIZE = 12


def _render(request: MerchantRequest, form: BillingDetailsForm, status: int = 200) -> HttpResponse:
    merchant = request.merchant
    page = Paginator(billing_selectors.invoices_of(merchant=merchant), PAGE_SIZE).get_page(request.GET.get("page"))
    context = _portal_context(
        request,
        "billing",
        page_obj=page,
        estimate=billing_selectors.month_estimate(merchant=merchant),
        form=form,
        commission_percent=_percent(billing_selectors.commission_rate_on(merchant_id=merchant.pk, on=_today())),
    )
    return render(request, "merchants/portal/billing.html", context, status=status)


def _percent(rate: Decimal) -> str:
    """0.1250 → "12.5": the rate as a person reads it, exactly (no float)."""
    text = format((rate * 100).normalize(), "f")
    return text


def _today() -> date:
    return timezone.localdate()


@merchant_role_required(*ANY_ROLE)
def billing(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    merchant = request.merchant
    initial = {"billing_email": merchant.billing_email or merchant.contact_email, "vat_number": merchant.vat_number}
    form = BillingDetailsForm(initial=initial)
    return _render(request, form)


@require_POST
@merchant_role_required(*EDITORS)
def billing_details(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    form = BillingDetailsForm(request.POST)
    if form.is_valid():
        try:
            billing_details_update(merchant=request.merchant, actor=request.user, **form.service_arguments())
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Billing details saved."))
            return redirect("merchants:billing", merchant_id=merchant_id)
    return _render(request, form, status=400)


@merchant_role_required(*ANY_ROLE)
def invoice_pdf(request: MerchantRequest, merchant_id: int, invoice_id: int) -> HttpResponse:
    invoice = billing_selectors.invoice_of(merchant=request.merchant, invoice_id=invoice_id)
    if invoice is None:
        raise Http404("No such invoice.")
    response = HttpResponse(billing_pdf.statement_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{billing_pdf.statement_filename(invoice)}"'
    return response
