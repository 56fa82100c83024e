"""How the OpenAPI schema (/api/schema/) describes every endpoint, truthfully and without
per-view boilerplate (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``).

- One component for the error contract of ``cashback.errors``: ``ApiError``,
  ``{"error": {"code", "message", "fields"}}``. Every 4xx an operation documents carries it
  (a view's ``OpenApiResponse(description=...)`` for a 4xx gets it as its body).
- The 4xx every endpoint may answer through the shared doors are added to each operation
  (unless the view documents that status itself, e.g. with its domain codes):
  400 (any query value or field: ``invalid``, ``card_number_present``), 401 and 403 (behind a
  sign-in; 403 also for staff without two-factor, ``mfa_required``), 404 (a path with an id),
  413 and 415 (a request body), 429 (a throttled scope, with ``Retry-After``).
- A list is documented as paginated (``count``/``next``/``previous``/``results`` and the bounded
  ``page``/``page_size`` parameters) when the view's ``pagination_class`` is set; views that
  paginate by hand set it too (cashback/pagination.py).

tests/cashback/test_api_schemathesis.py holds the schema to the answers: a 4xx or a body that is
not documented fails it.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny


class ApiErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: `invalid`, `not_found`, or a domain code.")
    message = serializers.CharField(help_text="For people.")
    # DRF's metaclass takes declared fields off the class, so "fields" does not shadow Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]  # the stubs see the class attribute
        help_text="The fields at fault (dotted paths for nested ones) and what is wrong with each; may be empty."
    )


class ApiErrorSerializer(serializers.Serializer):
    error = ApiErrorDetailSerializer()


class MoneySerializer(serializers.Serializer):
    """A sum of money as every endpoint writes it (the ``Money`` component)."""

    amount = serializers.CharField(help_text='Decimal string in the currency\'s minor digits, e.g. "110.00".')
    currency = serializers.CharField(help_text="ISO 4217 code, e.g. NOK.")


def error_response(description: str) -> OpenApiResponse:
    """A 4xx an endpoint documents in its own words (its domain codes); the body is ``ApiError``."""
    return OpenApiResponse(description=description)


DEFAULT_ERRORS = {
    400: "Invalid input (`invalid`, with `fields`), or a full card number in any field, query value or "
    "stored header (`card_number_present`).",
    401: "Not signed in, or an unknown or revoked credential (`not_authenticated`, `invalid_api_key`).",
    403: "Not allowed (`permission_denied`; staff without two-factor authentication: `mfa_required`).",
    404: "Not found (`not_found`, or the domain code of the missing thing).",
    413: "The body is larger than `API_MAX_BODY_BYTES` (`payload_too_large`).",
    415: "The body's content type is not one the endpoint reads (`unsupported_media_type`).",
    429: "Too many requests (`throttled`): try again after `Retry-After` seconds.",
}

RETRY_AFTER_HEADER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}
}


class CashbackAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        error_content = {"application/json": {"schema": self.resolve_serializer(ApiErrorSerializer, direction).ref}}
        for documented_status, response in responses.items():
            if documented_status.startswith("4") and not response.get("content"):
                response["content"] = error_content
        for error_status in self._error_statuses():
            response = responses.setdefault(str(error_status), {"description": DEFAULT_ERRORS[error_status]})
            response.setdefault("content", error_content)
            if error_status == 429:
                response.setdefault("headers", RETRY_AFTER_HEADER)
        return responses

    def _error_statuses(self) -> list[int]:
        statuses = [400]
        if not any(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            statuses.append(401)
        statuses.append(403)
        if "{" in self.path:
            statuses.append(404)
        if self.method not in SAFE_METHODS and self.method != "DELETE":
            statuses += [413, 415]
        if self._is_throttled():
            statuses.append(429)
        return statuses

    def _is_throttled(self) -> bool:
        if not getattr(self.view, "throttle_scope", None):
            return False
        return self.method not in SAFE_METHODS or any(
            getattr(throttle, "limits_reads", False) for throttle in self.view.get_throttles()
        )
