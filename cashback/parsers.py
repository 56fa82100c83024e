"""The request parsers of every DRF endpoint (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

Each reads at most ``API_MAX_BODY_BYTES`` (413 ``payload_too_large`` beyond), parses, and runs the
card-number guard over every field before the view sees the data (400 ``card_number_present``;
for JSON also 400 ``json_too_deep`` beyond ``JSON_MAX_DEPTH`` levels). A view whose fields may
carry a card number on purpose — the card network's enrolment, the card-linking API with its own
clearer message — names them in ``card_number_fields``; password fields are never refused
(cashback/card_guard.py). The errors are DomainErrors, so the API's exception handler answers them
in the error format.
"""

import codecs
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from cashback import bounded_json
from cashback.card_guard import refuse_card_numbers, refuse_card_numbers_in_json


def _allowed_fields(parser_context: Mapping[str, Any] | None) -> tuple[str, ...]:
    view = (parser_context or {}).get("view")
    return tuple(getattr(view, "card_number_fields", ()))


def _guard_query_dict(data: QueryDict, parser_context: Mapping[str, Any] | None) -> None:
    values = {key: items[0] if len(items) == 1 else items for key, items in data.lists()}
    refuse_card_numbers(values, allowed_fields=_allowed_fields(parser_context))


class GuardedJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        body = bounded_json.read_bounded(stream, limit=settings.API_MAX_BODY_BYTES)
        try:
            text = codecs.decode(body, encoding)
            data = bounded_json.loads(text, parse_constant=None if not self.strict else _refuse_constant)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        refuse_card_numbers_in_json(text, data, allowed_fields=_allowed_fields(parser_context))
        return data


def _refuse_constant(text: str) -> None:
    raise ValueError(f"{text} is not valid JSON")


class GuardedFormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        body = bounded_json.read_bounded(stream, limit=settings.API_MAX_BODY_BYTES)
        data = QueryDict(body, encoding=encoding)
        _guard_query_dict(data, parser_context)
        return data


class GuardedMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        _guard_query_dict(result.data, parser_context)
        return result
