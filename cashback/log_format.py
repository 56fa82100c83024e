"""How log lines look (LOG_FORMAT in settings; docs/operations.md, "Logs").

``json`` (the default outside DEBUG): one JSON object per line, for a log collector: ``time`` (UTC,
ISO 8601), ``level``, ``logger``, ``message`` (the line as it always read), and when bound
``request_id``, ``task_id`` and ``task_name`` (cashback/request_ids.py); a traceback is in
``exc_info``, and fields passed with ``extra=`` are kept. ``plain`` (``make run``): the readable line,
with the ids appended in brackets.
"""

import logging

from pythonjsonlogger.json import JsonFormatter

from cashback import request_ids


class RequestContextFilter(logging.Filter):
    """On the handler: puts the bound request, task id and task name on every record it writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in request_ids.context_items():
            setattr(record, name, value)
        return True


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = [f"{name}={getattr(record, name)}" for name in ("request_id", "task_name") if hasattr(record, name)]
        if not context:
            return line
        first, newline, rest = line.partition("\n")  # after the message, before any traceback
        return f"{first} [{' '.join(context)}]{newline}{rest}"


def json_formatter() -> logging.Formatter:
    """A factory for LOGGING's ``"()"``."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )
