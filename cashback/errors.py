"""The one error contract of the platform.

Services raise a ``DomainError`` subclass with a stable ``code``. The DRF exception
handler and ``form_error_from`` turn it into a 4xx JSON body or a form error; nothing
a user can send should ever become a 500.

JSON errors under /api/ look like ``{"error": {"code", "message", "fields"}}``.
"""

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from cashback.throttling import retry_after_seconds

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from django_stubs_ext import StrOrPromise  # a str or a lazy translation


class DomainError(Exception):
    """Base class of every business-rule error a service raises."""

    code: str = "invalid"
    http_status: int = status.HTTP_400_BAD_REQUEST
    # Messages are translated (gettext_lazy) and written when the error is raised, in the language of
    # the request that caused it; the code stays the same stable English identifier in every language.
    default_message: "StrOrPromise" = gettext_lazy("The request could not be carried out.")

    def __init__(
        self, message: "StrOrPromise | None" = None, *, fields: "Mapping[str, Sequence[StrOrPromise]] | None" = None
    ) -> None:
        self.message: str = str(message or self.default_message)
        self.fields: dict[str, list[str]] = {
            name: [str(text) for text in texts] for name, texts in (fields or {}).items()
        }
        super().__init__(self.message)


class NotFoundError(DomainError):
    code = "not_found"
    http_status = status.HTTP_404_NOT_FOUND
    default_message: "StrOrPromise" = gettext_lazy("Not found.")


class PermissionDeniedError(DomainError):
    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN
    default_message: "StrOrPromise" = gettext_lazy("You do not have permission to do this.")


class ConflictError(DomainError):
    code = "conflict"
    http_status = status.HTTP_409_CONFLICT
    default_message: "StrOrPromise" = gettext_lazy("The request conflicts with the current state.")


def error_body(*, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten_detail(detail: Any) -> Any:
    """DRF details are nested lists/dicts of ErrorDetail; make them plain JSON values."""
    if isinstance(detail, dict):
        return {key: _flatten_detail(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten_detail(item) for item in detail]
    return str(detail)


def _first_message(fields: Any) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            message = _first_message(value)
            if message:
                return message if key == "non_field_errors" else f"{key}: {message}"
    if isinstance(fields, list) and fields:
        return _first_message(fields[0])
    if isinstance(fields, str):
        return fields
    return ""


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # cycle: rest_framework.views loads the default parsers (cashback/parsers.py), which raise these errors
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DomainError):
        return Response(
            error_body(code=exc.code, message=exc.message, fields=exc.fields),
            status=exc.http_status,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        # DRF has set Retry-After; say the same in the message.
        wait = retry_after_seconds(getattr(exc, "wait", None))  # set by Throttled(), missing from the stubs
        response.data = error_body(
            code="throttled",
            message=ngettext(
                "Too many requests: try again in %(wait)s second.",
                "Too many requests: try again in %(wait)s seconds.",
                wait,
            )
            % {"wait": wait},
        )
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten_detail(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        response.data = error_body(
            code="invalid", message=_first_message(fields) or gettext("Invalid input."), fields=fields
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = error_body(
            code=code if isinstance(code, str) else "error",
            message=str(_flatten_detail(detail)),
        )
    return response


def form_error_from(form: BaseForm, error: DomainError) -> None:
    """Attach a service's domain error to a form so the page shows it beside the fields."""
    if error.fields:
        for field, messages in error.fields.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(code="not_found", message=gettext("Not found.")), status=404)
    return render(request, "errors/404.html", status=404)


@csrf_exempt  # nothing happens here, and a CSRF refusal would be an HTML page
def api_not_found(request: HttpRequest, unknown_path: str = "") -> HttpResponse:
    """Every path under /api/ that no endpoint serves, whatever the method and even with DEBUG on
    (where Django's own 404 is an HTML page): JSON 404 in the error format."""
    message = gettext("Not found.")
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            message = gettext("Not found. Did you mean %(path)s/ (with the slash)?") % {"path": request.path}
    return JsonResponse(error_body(code="not_found", message=message), status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(code="permission_denied", message=gettext("Permission denied.")), status=403)
    return render(request, "errors/403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(code="bad_request", message=gettext("Bad request.")), status=400)
    return render(request, "errors/400.html", status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body(code="server_error", message=gettext("Something went wrong on our side.")), status=500
        )
    # No context processors: the failure may be in one of them.
    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)
