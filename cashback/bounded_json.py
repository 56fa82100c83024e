"""JSON bodies with a bounded size and nesting depth, for every JSON door (docs/api.md, "Errors").

A body nested thousands of levels deep makes a recursive parser or walker raise RecursionError — a
500 that a sender retries for ever. The doors refuse it instead: ``JSON_MAX_DEPTH`` (64) levels of
objects and arrays at most, 400 ``json_too_deep``; and no more than the door's size limit, 413
``payload_too_large``. The size is measured before parsing (the door reads at most one byte past
the limit); the depth while parsing (the C parser's own recursion guard, for bodies deeper than
Python's recursion limit) and by the walk every door does anyway for the card-number guard
(cashback/card_guard.py), which stops at the limit — so a door pays no separate pass for it.
"""

import json
from typing import IO, Any

from django.conf import settings
from rest_framework import status

from cashback.errors import DomainError


class JsonTooDeepError(DomainError):
    code = "json_too_deep"
    default_message = "The JSON body is nested too deeply."

    def __init__(self, limit: int | None = None) -> None:
        limit = settings.JSON_MAX_DEPTH if limit is None else limit
        super().__init__(
            f"The JSON body is nested more than {limit} levels deep; send a flatter body.",
            fields={"max_depth": [str(limit)]},
        )


class PayloadTooLargeError(DomainError):
    code = "payload_too_large"
    http_status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_message = "The body is larger than this endpoint accepts."

    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is larger than {limit} bytes.", fields={"limit_bytes": [str(limit)]})


def read_bounded(stream: IO[bytes], *, limit: int) -> bytes:
    """At most ``limit`` bytes of ``stream``; one more means the body is too large."""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLargeError(limit)
    return body


def loads(text: str | bytes, **options: Any) -> Any:
    """``json.loads``, with a nesting too deep for the parser's recursion refused as ``json_too_deep``.
    Depths between ``JSON_MAX_DEPTH`` and that are refused by the guard's walk."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise JsonTooDeepError() from None
