"""The suite's guard against full card numbers in logs and tables (F-A4: never a full card number).

Loaded for every test (``pytest_plugins`` in tests/conftest.py):

- every log record that reaches the root logger during a test is checked for the test card
  numbers (message, arguments and exception text); a test that logs one fails;
- after a test that enrolled a card with the fake card network (the only door a full number
  comes through), every text of every table is scanned for any 13-19 digit Luhn-valid number,
  before the test's transaction is rolled back.

tests/accounts/test_no_card_numbers.py drives the card doors and tests/test_card_numbers_everywhere.py
every other door at DEBUG level with SQL logging on (the ``everything_logged`` fixture below); they
use the scanners below.
"""

import logging
import re
from collections.abc import Iterable, Iterator

import pytest
from django.db import connection

from cashback.providers.card_network import DECLINED_TEST_NUMBERS, TEST_CARD_NUMBERS, FakeCardNetwork, luhn_valid

KNOWN_NUMBERS = frozenset(TEST_CARD_NUMBERS) | DECLINED_TEST_NUMBERS
# A run of 13-19 digits that is not part of a longer word (so hex digests and tokens do not count),
# or the same grouped in fours by spaces or dashes as people type it.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{13,19}(?![0-9A-Za-z])")
_GROUPED = re.compile(r"(?<![0-9])[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,7}(?![0-9])")


def card_numbers_in(text: str) -> list[str]:
    """Every full card number in ``text``: a known test number anywhere, or any Luhn-valid 13-19 digit run
    starting like a card (2-6) that stands on its own."""
    found = [number for number in KNOWN_NUMBERS if number in text]
    for match in list(_DIGIT_RUN.finditer(text)) + list(_GROUPED.finditer(text)):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits):
            found.append(digits)
    return sorted(set(found))


def known_numbers_in(text: str) -> list[str]:
    """Only the test card numbers (no false positives: nothing but a test puts them anywhere)."""
    compact = re.sub(r"(?<=[0-9])[ -](?=[0-9])", "", text)
    return sorted(number for number in KNOWN_NUMBERS if number in compact)


def record_texts(record: logging.LogRecord) -> Iterator[str]:
    """The parts of a log record that a log handler would write out or send."""
    yield record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        yield repr(record.exc_info[1])
    request = getattr(record, "request", None)
    if request is not None and record.exc_info:
        # What Django's AdminEmailHandler would mail (text and HTML, as with include_html), and the debug page.
        from django.views.debug import ExceptionReporter

        reporter = ExceptionReporter(request, *record.exc_info, is_email=True)
        yield reporter.get_traceback_text()
        yield reporter.get_traceback_html()  # with every frame's local variables


class RecordingHandler(logging.Handler):
    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def leaks(self, finder=known_numbers_in) -> list[tuple[str, str]]:
        return [
            (record.name, number) for record in self.records for text in record_texts(record) for number in finder(text)
        ]


def database_texts() -> Iterator[tuple[str, str]]:
    """(table, row as text) for every row of every table of the default database."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT t::text FROM {quoted} AS t")
                for (text,) in cursor.fetchall():
                    yield table, text
            else:
                cursor.execute(f"SELECT * FROM {quoted}")
                for row in cursor.fetchall():
                    yield table, " | ".join("" if value is None else str(value) for value in row)


def card_numbers_in_database(texts: Iterable[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    return [(table, number) for table, text in (texts or database_texts()) for number in card_numbers_in(text)]


@pytest.fixture
def everything_logged(caplog):
    """Every logger at DEBUG, SQL with parameters included; yields the handler that saw it all."""
    handler = RecordingHandler(logging.DEBUG)
    root = logging.getLogger()
    sql_logger = logging.getLogger("django.db.backends")
    levels = (root.level, sql_logger.level)
    root.setLevel(logging.DEBUG)
    sql_logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        yield handler
    finally:
        connection.force_debug_cursor = forced
        root.removeHandler(handler)
        root.setLevel(levels[0])
        sql_logger.setLevel(levels[1])


@pytest.fixture(autouse=True)
def _no_full_card_numbers(request: pytest.FixtureRequest) -> Iterator[None]:
    uses_database = bool(request.node.get_closest_marker("django_db")) or "_django_db_helper" in request.fixturenames
    if uses_database:
        # Set the database up first, so that it is rolled back only after the scan below.
        request.getfixturevalue("_django_db_helper")
    handler = RecordingHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    enrolments_before = FakeCardNetwork.enrolments
    try:
        yield
    finally:
        root.removeHandler(handler)
    leaks = handler.leaks()
    assert not leaks, f"a full card number was logged: {leaks}"
    if uses_database and FakeCardNetwork.enrolments != enrolments_before:
        stored = card_numbers_in_database()
        assert not stored, f"a full card number is stored in the database: {stored}"
