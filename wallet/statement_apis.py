"""``GET /api/v1/wallet/statements/``: the months with a statement, or one month's statement.

``?month=2026-10&currency=NOK&format=pdf|csv|json``: the file (PDF by default) or, with
``format=json``, its figures. Without ``month``: the list of months with activity. DRF's own
``?format=`` renderer override is switched off here, since ``format`` names the statement's format.
"""

from types import SimpleNamespace

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.request_types import AuthenticatedRequest
from wallet import statements


class _FormatIsOurs(DefaultContentNegotiation):
    # DRF reads only URL_FORMAT_OVERRIDE here, so a stand-in object replaces its settings.
    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)  # type: ignore[assignment]  # a stand-in, not APISettings


def _statement_json(data: statements.StatementData) -> dict:
    money = data.money
    return {
        "month": data.period.key,
        "currency": data.currency,
        "accounts": [statements.KIND_LABELS[kind].lower() for kind in data.columns],
        "opening": {statements.KIND_LABELS[k].lower(): money(data.opening[k]) for k in data.columns},
        "closing": {statements.KIND_LABELS[k].lower(): money(data.closing[k]) for k in data.columns},
        "opening_total": money(data.opening_total),
        "closing_total": money(data.closing_total),
        "money_in": money(data.money_in),
        "money_out": money(data.money_out),
        "movements": [
            {
                "at": line.at,
                "transaction": line.transaction_id,
                "kind": line.kind,
                "description": line.description,
                "amounts": {statements.KIND_LABELS[k].lower(): money(v) for k, v in line.amounts.items()},
                "total": money(line.total),
                "balance": money(line.balance_after),
            }
            for line in data.lines
        ],
    }


class StatementsApi(APIView):
    """The signed-in consumer's monthly statements."""

    content_negotiation_class = _FormatIsOurs

    @extend_schema(
        operation_id="wallet_statements",
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM; without it, the list of months."),
            OpenApiParameter("currency", OpenApiTypes.STR, description="NOK, SEK, DKK or EUR."),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["pdf", "csv", "json"], description="Default pdf."),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The months (`results`), or with `format=json` the statement's figures.",
            ),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The statement (`format=pdf`)."),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The statement (`format=csv`)."),
            400: OpenApiResponse(
                description="`statement_month_invalid`, `statement_currency_invalid` or `statement_format_invalid`."
            ),
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response | HttpResponse:
        params = request.query_params
        if "month" not in params:
            base = reverse("api-wallet-statements")
            return Response(
                {
                    "results": [
                        {
                            "month": period.key,
                            "currency": currency,
                            "complete": period.is_over(),
                            "pdf": f"{base}?month={period.key}&currency={currency}&format=pdf",
                            "csv": f"{base}?month={period.key}&currency={currency}&format=csv",
                        }
                        for period, currency in statements.statement_months(user=request.user)
                    ]
                }
            )
        if (params.get("format") or "").strip().lower() == "json":
            period = statements.Period.parse(params.get("month"))
            data = statements.statement_build(user=request.user, period=period, currency=params.get("currency"))
            return Response(_statement_json(data))
        content, filename, content_type = statements.statement_document(
            user=request.user, month=params.get("month"), currency=params.get("currency"), fmt=params.get("format")
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
