"""Merchant invoices for finance (/staff/invoices/, F-X3): every merchant's monthly statement,
filtered by status, currency and month billed, with totals per currency. Read-only: billing's own
runs issue, charge and chase them (docs/billing.md)."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import staff_required
from merchants import billing_selectors
from merchants.billing_models import InvoiceStatus
from wallet.staff_filters import MoneyFilterForm

PAGE_SIZE = 25


@staff_required("merchants.view_merchantinvoice")
def invoice_list(request: HttpRequest) -> HttpResponse:
    form = MoneyFilterForm(request.GET or None, statuses=InvoiceStatus.choices)
    chosen = form.apply(billing_selectors.invoice_list(), date_field="period", date_is_day=True)
    context = {
        "section": "invoices",
        "form": form,
        "filtered": bool(form.filters()),
        "totals": billing_selectors.invoice_totals(chosen),
        "page_obj": Paginator(chosen, PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "adminpanel/invoice_list.html", context)
