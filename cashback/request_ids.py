"""Request ids: one id per web request, in each log line the request causes and in the Celery tasks it
enqueues, so that one search finds everything a request did (docs/operations.md, "Logs").

The id comes from the request's ``X-Request-ID`` header when it is well formed (a proxy or the mobile
app made it), else it is made here; the response carries it back in the same header. It lives in a
context variable for the length of the request: ``before_task_publish`` copies it into the header
``request_id`` of each task message sent meanwhile (an ``on_commit`` callback runs in the request's
thread too), and ``task_prerun`` sets it again in the worker while the task runs, with the task's id
and name. A task enqueued by that task carries it on. Tasks sent from no request (beat, the webhook
dispatcher's thread, which publishes many requests' events in one task) carry none.

cashback/celery.py imports this module, so the signal handlers are connected in web and worker alike.
"""

import os
import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from typing import Any

from celery import signals
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
# Ids made by proxies and load balancers (UUIDs, hex, "Root=1-…" without the "=") fit; anything
# longer or with other characters is replaced, so a header can never inject into a log line.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)
task_name_var: ContextVar[str | None] = ContextVar("task_name", default=None)


def well_formed(value: object) -> bool:
    return isinstance(value, str) and _WELL_FORMED.fullmatch(value) is not None


def request_id_from(header: str | None) -> str:
    """The incoming id when it is well formed, else a new one (32 hex digits)."""
    if header is not None and well_formed(header):
        return header
    return os.urandom(16).hex()  # as random as uuid4().hex, at a fifth of its cost


def current() -> str | None:
    return request_id_var.get()


class RequestIdMiddleware:
    """First in MIDDLEWARE: every log line of the request, and every task it enqueues, has the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


def wsgi_bound(environ: dict[str, Any]) -> tuple[str, Token[str | None]]:
    """For WSGI code outside Django (the webhook doors): the request's id, bound until ``reset``."""
    request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
    return request_id, request_id_var.set(request_id)


def reset(token: Token[str | None]) -> None:
    request_id_var.reset(token)


# --- Celery: web → message header → worker ---------------------------------------------------------


@signals.before_task_publish.connect
def _add_request_id_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = request_id_var.get()
    if request_id is not None and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


# Per running task: the tokens that undo what task_prerun set (a prefork child runs one task at a
# time; an eager task runs inside its caller, whose values come back afterwards).
_tokens: dict[str, list[Token[str | None]]] = {}


@signals.task_prerun.connect
def _bind_task_context(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id is None or task is None:
        return
    tokens = [task_id_var.set(task_id), task_name_var.set(getattr(task, "name", None))]
    sent = getattr(task.request, TASK_HEADER, None) or (getattr(task.request, "headers", None) or {}).get(TASK_HEADER)
    if well_formed(sent):
        tokens.append(request_id_var.set(sent))
    # An eager task (no message) keeps its caller's request id: it runs in the caller's context.
    _tokens[task_id] = tokens


@signals.task_postrun.connect
def _unbind_task_context(task_id: str | None = None, **_: Any) -> None:
    for token in reversed(_tokens.pop(task_id or "", [])):
        token.var.reset(token)


def context_items() -> Iterable[tuple[str, str]]:
    """The ids bound now, by the names log lines give them."""
    for name, var in (("request_id", request_id_var), ("task_id", task_id_var), ("task_name", task_name_var)):
        value = var.get()
        if value is not None:
            yield name, value
