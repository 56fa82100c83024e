"""Log lines: one JSON object per line in production, the readable line with the ids under make run."""

import json
import logging

import pytest

from cashback import request_ids
from cashback.log_format import PlainFormatter, RequestContextFilter, json_formatter


def format_line(formatter: logging.Formatter, *, exc_info=None, **extra) -> str:
    record = logging.getLogger("cashback.webhooks").makeRecord(
        "cashback.webhooks",
        logging.WARNING,
        __file__,
        1,
        "webhook %s %s could not be stored",
        ("visa", "evt_1"),
        exc_info,
        extra=extra,
    )
    RequestContextFilter().filter(record)
    return formatter.format(record)


@pytest.fixture
def bound_request():
    token = request_ids.request_id_var.set("req-123")
    yield "req-123"
    request_ids.request_id_var.reset(token)


def test_a_json_line_has_time_level_logger_message_and_the_request_id(bound_request):
    line = format_line(json_formatter(), event_pk=42)

    assert "\n" not in line
    fields = json.loads(line)
    assert fields["message"] == "webhook visa evt_1 could not be stored"  # the line's meaning is kept
    assert fields["level"] == "WARNING"
    assert fields["logger"] == "cashback.webhooks"
    assert fields["request_id"] == "req-123"
    assert fields["event_pk"] == 42  # extra= fields are kept
    assert fields["time"].endswith("+00:00")
    assert "task_id" not in fields  # not in a task


def test_a_traceback_stays_inside_the_one_json_line(bound_request):
    try:
        raise RuntimeError("database gone")
    except RuntimeError:
        import sys

        line = format_line(json_formatter(), exc_info=sys.exc_info())

    assert line.count("\n") == 0
    assert "RuntimeError: database gone" in json.loads(line)["exc_info"]


def test_the_plain_line_reads_as_before_with_the_request_id_appended(bound_request):
    line = format_line(PlainFormatter())

    assert line.endswith("WARNING cashback.webhooks webhook visa evt_1 could not be stored [request_id=req-123]")


def test_without_a_request_the_plain_line_is_unchanged():
    assert format_line(PlainFormatter()).endswith("cashback.webhooks webhook visa evt_1 could not be stored")
