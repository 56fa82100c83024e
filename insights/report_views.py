"""The merchant's reports (F-P3) at /portal/<merchant_id>/reports/: campaign KPIs, who the customers
are, the transactions; downloads as CSV (streamed) and PDF, large ones prepared by a task.

Every role reads and downloads (analysts too: preparing a file changes nothing of the merchant's);
another merchant's ids are 404 (the decorator) or a form error (the filters' choices).
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from insights import report_exports, report_files, report_selectors
from insights.errors import (
    ReportExportExpiredError,
    ReportExportNotFoundError,
    ReportExportNotReadyError,
    ReportTooLargeError,
)
from insights.export_models import ReportExport
from insights.report_forms import ExportForm, ReportFilterForm, with_default_period
from merchants.decorators import ANY_ROLE, EDITORS, OWNERS, MerchantRequest, merchant_role_required

RECENT_EXPORTS = 5
_AnyResponse = TypeVar("_AnyResponse", bound=HttpResponseBase)
DOWNLOAD_CHOICES = [
    ("transactions", "csv", "Transactions (CSV)"),
    ("transactions", "pdf", "Transactions (PDF)"),
    ("campaigns", "csv", "Campaigns (CSV)"),
    ("summary", "pdf", "Campaigns and customers (PDF)"),
]


def _context(request: MerchantRequest, **extra: Any) -> dict[str, Any]:
    """What merchants/portal/base.html needs, with the reports section marked current."""
    membership = request.membership
    return {
        "merchant": request.merchant,
        "membership": membership,
        "offers_url": reverse("campaigns:list", args=[membership.merchant_id]),
        "section": "reports",
        "time_zone": settings.TIME_ZONE,
        "download_choices": DOWNLOAD_CHOICES,
        "can_edit": membership.role in EDITORS,
        "is_owner": membership.role in OWNERS,
        **extra,
    }


def _recent_exports(request: MerchantRequest) -> list[ReportExport]:
    return list(ReportExport.objects.filter(merchant=request.merchant, requested_by=request.user)[:RECENT_EXPORTS])


def _page(request: MerchantRequest, form: ReportFilterForm, *, status: int = 200) -> HttpResponse:
    filter_values = [(name, form.data.get(name) or "") for name in ReportFilterForm.base_fields]
    context = _context(request, form=form, exports=_recent_exports(request), filter_values=filter_values)
    if form.is_valid():
        merchant_id = request.merchant.pk
        period = form.period
        campaigns = report_selectors.campaign_kpis(merchant_id=merchant_id, period=period)
        people = report_selectors.demographics(
            merchant_id=merchant_id, period=period, total_known=not campaigns.total_customers_hidden
        )
        purchases = report_selectors.transactions(merchant_id=merchant_id, filters=form.transaction_filters())
        page = Paginator(purchases, settings.REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
        context |= {
            "campaigns": campaigns,
            "people": people,
            "page_obj": page,
            "rows": [report_selectors.transaction_row(p, merchant_id=merchant_id) for p in page.object_list],
            "direct_max_rows": settings.REPORT_EXPORT_DIRECT_MAX_ROWS,
            "pdf_max_rows": settings.REPORT_PDF_MAX_ROWS,
            "ttl_days": settings.REPORT_EXPORT_TTL_DAYS,
        }
    elif status == 200:
        status = 400
    return render(request, "insights/reports.html", context, status=status)


@merchant_role_required(*ANY_ROLE)
def reports(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    form = ReportFilterForm(with_default_period(request.GET), merchant=request.merchant)
    return _page(request, form)


@require_POST
@merchant_role_required(*ANY_ROLE)
def export(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    """Download a report: written at once when small, otherwise prepared by a task (docs/reports.md)."""
    merchant = request.merchant
    form = ExportForm(request.POST, merchant=merchant)
    if not form.is_valid():
        return _page(request, form, status=400)
    what, fmt, period = form.cleaned_data["what"], form.cleaned_data["fmt"], form.period
    if what == "campaigns":
        report = report_selectors.campaign_kpis(merchant_id=merchant.pk, period=period)
        name = report_files.filename(merchant, "campaigns", period.start, period.end, "csv")
        return _streamed_csv(report_files.campaigns_csv(report), name)
    if what == "summary":
        report = report_selectors.campaign_kpis(merchant_id=merchant.pk, period=period)
        people = report_selectors.demographics(
            merchant_id=merchant.pk, period=period, total_known=not report.total_customers_hidden
        )
        pdf = report_files.summary_pdf(merchant=merchant, campaigns=report, people=people)
        name = report_files.filename(merchant, "summary", period.start, period.end, "pdf")
        return _attachment(HttpResponse(pdf, content_type="application/pdf"), name)
    filters = form.transaction_filters()
    count = report_selectors.transactions(merchant_id=merchant.pk, filters=filters).count()
    name = report_files.filename(merchant, "transactions", period.start, period.end, fmt)
    if fmt == "pdf" and count > settings.REPORT_PDF_MAX_ROWS:
        form.add_error(
            None,
            _("%(problem)s (at most %(rows)s rows)")
            % {
                "problem": ReportTooLargeError.default_message,
                "rows": settings.REPORT_PDF_MAX_ROWS,
            },
        )
        return _page(request, form, status=400)
    if count <= settings.REPORT_EXPORT_DIRECT_MAX_ROWS:
        rows = report_selectors.transaction_rows(merchant_id=merchant.pk, filters=filters)
        if fmt == "pdf":
            pdf = report_files.transactions_pdf(merchant=merchant, filters=filters, rows=rows)
            return _attachment(HttpResponse(pdf, content_type="application/pdf"), name)
        return _streamed_csv(report_files.transactions_csv(rows), name)
    _export, started = report_exports.report_export_start(
        merchant=merchant, user=request.user, fmt=fmt, filters=filters
    )
    if started:
        messages.success(
            request,
            _("%(count)s rows: we are preparing the file. This page shows when it is ready.") % {"count": count},
        )
    query = urlencode({key: str(value) for key, value in request.POST.items() if key in ReportFilterForm.base_fields})
    return redirect(f"{reverse('reports:index', args=[merchant.pk])}?{query}#exports")


def _streamed_csv(lines: Any, name: str) -> HttpResponse:
    # merchant_role_required is typed for HttpResponse; a stream is served alike.
    return cast(HttpResponse, _attachment(StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8"), name))


def _attachment(response: _AnyResponse, name: str) -> _AnyResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@merchant_role_required(*ANY_ROLE)
def export_status(request: MerchantRequest, merchant_id: int, export_id: int) -> HttpResponse:
    """One export's box alone, for the page's polling while it is being prepared."""
    export = ReportExport.objects.filter(pk=export_id, merchant=request.merchant).first()
    if export is None:
        raise Http404("No such export.")
    return render(request, "insights/_export_status.html", {"export": export, "merchant": request.merchant})


@merchant_role_required(*ANY_ROLE)
def export_download(request: MerchantRequest, merchant_id: int, export_id: int) -> HttpResponse:
    try:
        export = report_exports.report_export_for_download(merchant=request.merchant, export_id=export_id)
    except ReportExportNotFoundError:
        raise Http404("No such export.") from None
    except (ReportExportExpiredError, ReportExportNotReadyError) as error:
        context = _context(request, error=error)
        return render(request, "insights/export_unavailable.html", context, status=error.http_status)
    kind = "application/pdf" if export.fmt == ReportExport.Format.PDF else "text/csv; charset=utf-8"
    response = FileResponse(export.file.open("rb"), as_attachment=True, filename=export.filename, content_type=kind)
    return cast(HttpResponse, response)  # merchant_role_required is typed for HttpResponse; a file is served alike
