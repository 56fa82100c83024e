"""The web wallet's statements: months with activity, and each month's PDF or CSV."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.request_types import AuthenticatedHttpRequest
from cashback.errors import DomainError
from wallet import statements


@login_required
def statement_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    months = statements.statement_months(user=request.user)
    return render(
        request,
        "wallet/statements.html",
        {
            "months": [
                {"period": period, "currency": currency, "current": not period.is_over()} for period, currency in months
            ]
        },
    )


@login_required
def statement_download(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        content, filename, content_type = statements.statement_document(
            user=request.user,
            month=request.GET.get("month"),
            currency=request.GET.get("currency"),
            fmt=request.GET.get("format"),
        )
    except DomainError as error:
        return render(request, "wallet/statement_error.html", {"error": error}, status=error.http_status)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
