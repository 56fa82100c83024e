"""Monthly statements (F-W4): figures from the ledger, PDF and CSV, web wallet, API and the monthly task."""

import csv
import io
from contextlib import contextmanager
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Case, F, Sum, When
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from notifications.models import Notification
from tests.accounts.conftest import AppClient
from tests.accounts.factories import PASSWORD
from tests.wallet.factories import LedgerAccountFactory, UserFactory, consumer_accounts, fund, settlement_account
from tests.wallet.ledger_scenarios import post
from wallet import statements, tasks
from wallet.models import AccountKind, Direction, Entry, JournalKind, Statement
from wallet.statements import Period

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
API = "/api/v1/wallet/statements/"


@contextmanager
def posted_at(year: int, month: int, day: int, hour: int = 12):
    """Post ledger transactions as if it were that time (entries take their time from timezone.now)."""
    moment = datetime(year, month, day, hour, tzinfo=OSLO)
    original = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = original


def _history(user, currency="NOK"):
    """August: earn 10.00. September: mature 6.00, reverse 1.00, donate 2.00, pay out 1.50, 0.50 back.
    October: earn 3.00 on the 1st just after midnight (so it is October in Oslo, September in UTC)."""
    pending, available = consumer_accounts(user, currency)
    merchant = LedgerAccountFactory(kind=AccountKind.MERCHANT_FUNDING, currency=currency)
    charity = LedgerAccountFactory(kind=AccountKind.CHARITY_PAYABLE, currency=currency)
    outside = settlement_account(currency)
    with posted_at(2025, 7, 1):
        fund(merchant, 100_000, source=outside, kind=JournalKind.MERCHANT_FUNDING)
    with posted_at(2025, 8, 14):
        post(JournalKind.REWARD_EARN, debit=merchant, credit=pending, amount=1000, memo="Coffee at Kaffebrenneriet")
    with posted_at(2025, 9, 2):
        post(JournalKind.REWARD_MATURE, debit=pending, credit=available, amount=600)
    with posted_at(2025, 9, 3):
        post(JournalKind.REWARD_REVERSE, debit=pending, credit=merchant, amount=100, memo="Refund")
    with posted_at(2025, 9, 10):
        post(JournalKind.DONATION, debit=available, credit=charity, amount=200)
    with posted_at(2025, 9, 20):
        post(JournalKind.PAYOUT, debit=available, credit=outside, amount=150)
    with posted_at(2025, 9, 30, hour=23):
        post(JournalKind.PAYOUT_RETURN, debit=outside, credit=available, amount=50)
    with posted_at(2025, 10, 1, hour=0):
        post(JournalKind.REWARD_EARN, debit=merchant, credit=pending, amount=300, memo="Books")
    return pending, available


def _ledger_total(user, currency, before):
    """The consumer's accounts' posted total before ``before``, straight from the entries."""
    signed = Case(When(direction=Direction.CREDIT, then=F("amount")), default=-F("amount"))
    return (
        Entry.objects.filter(
            account__user=user, account__kind__in=statements.COVERED_KINDS, currency=currency, created_at__lt=before
        ).aggregate(total=Sum(signed))["total"]
        or 0
    )


# --- Figures -------------------------------------------------------------------------------


def test_a_month_has_opening_every_movement_and_closing_per_account():
    user = UserFactory()
    _history(user)

    september = statements.statement_build(user=user, period=Period(2025, 9), currency="NOK")

    pending, available = AccountKind.CONSUMER_PENDING, AccountKind.CONSUMER_AVAILABLE
    assert (september.opening[pending], september.opening[available]) == (1000, 0)
    assert [line.kind for line in september.lines] == [
        JournalKind.REWARD_MATURE,
        JournalKind.REWARD_REVERSE,
        JournalKind.DONATION,
        JournalKind.PAYOUT,
        JournalKind.PAYOUT_RETURN,
    ]
    assert september.lines[0].amounts == {pending: -600, available: 600} and september.lines[0].total == 0
    assert (september.closing[pending], september.closing[available]) == (300, 300)
    assert (september.opening_total, september.closing_total) == (1000, 600)
    assert (september.money_in, september.money_out) == (50, 450)
    assert september.lines[-1].balance_after == 600
    assert september.columns == [available, pending]  # nothing owed, so no "owed" column


def test_closings_chain_into_openings_and_equal_the_ledger():
    user = UserFactory()
    pending, available = _history(user)

    months = [Period(2025, 7), Period(2025, 8), Period(2025, 9), Period(2025, 10)]
    built = [statements.statement_build(user=user, period=month, currency="NOK") for month in months]

    for before, after in pairwise(built):
        assert after.opening == before.closing
    for month, statement in zip(months, built, strict=True):
        assert statement.closing_total == _ledger_total(user, "NOK", month.end)
    pending.refresh_from_db()
    available.refresh_from_db()
    assert built[-1].closing[AccountKind.CONSUMER_PENDING] == pending.balance == 600
    assert built[-1].closing[AccountKind.CONSUMER_AVAILABLE] == available.balance == 300
    # Midnight on the 1st in Oslo belongs to the new month, although it is still the 30th in UTC.
    assert [line.description for line in built[-1].lines] == ["Cashback earned: Books"]


def test_the_months_with_activity_newest_first_per_currency():
    user = UserFactory()
    _history(user, "NOK")
    _history(user, "SEK")

    months = statements.statement_months(user=user)

    assert [(period.key, currency) for period, currency in months] == [
        ("2025-10", "NOK"),
        ("2025-10", "SEK"),
        ("2025-09", "NOK"),
        ("2025-09", "SEK"),
        ("2025-08", "NOK"),
        ("2025-08", "SEK"),
    ]
    assert statements.statement_months(user=UserFactory()) == []


@pytest.mark.parametrize("text", ["", "2025", "2025-13", "2025-00", "25-10", "2025/10", "1999-01", "2999-01"])
def test_a_bad_or_future_month_is_refused(text):
    with pytest.raises(statements.StatementMonthInvalidError):
        Period.parse(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moves=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=6), st.sampled_from(["earn", "mature", "spend"]), st.integers(1, 500)
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_history_statements_chain_and_end_at_the_balances(moves):
    user = UserFactory()
    pending, available = consumer_accounts(user, "EUR")
    merchant = LedgerAccountFactory(kind=AccountKind.MERCHANT_FUNDING, currency="EUR")
    outside = settlement_account("EUR")
    with posted_at(2025, 1, 1):
        fund(merchant, 10_000_000, source=outside, kind=JournalKind.MERCHANT_FUNDING)
    for month, move, amount in sorted(moves, key=lambda move: move[0]):
        pending.refresh_from_db()
        available.refresh_from_db()
        with posted_at(2025, month, 15):
            if move == "earn":
                post(JournalKind.REWARD_EARN, debit=merchant, credit=pending, amount=amount)
            elif move == "mature" and pending.balance >= amount:
                post(JournalKind.REWARD_MATURE, debit=pending, credit=available, amount=amount)
            elif move == "spend" and available.balance >= amount:
                post(JournalKind.SPEND, debit=available, credit=merchant, amount=amount)

    built = [statements.statement_build(user=user, period=Period(2025, m), currency="EUR") for m in range(1, 8)]

    for before, after in pairwise(built):
        assert after.opening == before.closing
    pending.refresh_from_db()
    available.refresh_from_db()
    assert built[-1].closing[AccountKind.CONSUMER_PENDING] == pending.balance
    assert built[-1].closing[AccountKind.CONSUMER_AVAILABLE] == available.balance
    for statement in built:
        assert statement.closing_total - statement.opening_total == statement.money_in - statement.money_out


# --- Documents -----------------------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_opens_and_its_totals_equal_the_ledger(settings):
    settings.PLATFORM_NAME = "Cashback Norge"
    user = UserFactory(full_name="Dina Demo")
    _history(user)

    content, filename, content_type = statements.statement_document(
        user=user, month="2025-09", currency="NOK", fmt="pdf"
    )

    assert content.startswith(b"%PDF") and content_type == "application/pdf"
    assert filename == "statement-2025-09-NOK.pdf"
    text = _pdf_text(content)
    assert "Cashback Norge" in text and "September 2025" in text and "Dina Demo" in text
    opening = statements.statement_build(user=user, period=Period(2025, 9), currency="NOK")
    ledger_opening = _ledger_total(user, "NOK", Period(2025, 9).start)
    ledger_closing = _ledger_total(user, "NOK", Period(2025, 9).end)
    assert (ledger_opening, ledger_closing) == (1000, 600)
    # The summary reads "Opening balance NOK 10.00 Money in NOK 0.50 Money out NOK 4.50 Closing balance NOK 6.00".
    compact = " ".join(text.split())
    assert "Opening balance NOK 10.00" in compact
    assert "Closing balance NOK 6.00" in compact
    assert "Money in NOK 0.50" in compact and "Money out NOK 4.50" in compact
    for line in opening.lines:
        assert line.description.split(":")[0] in compact
    for amount in ("-NOK 6.00", "NOK 6.00", "-NOK 1.00", "-NOK 2.00", "-NOK 1.50", "NOK 0.50"):
        assert amount in compact


def test_the_csv_has_opening_movements_and_closing_that_add_up():
    user = UserFactory()
    _history(user)

    content, filename, content_type = statements.statement_document(
        user=user, month="2025-09", currency="NOK", fmt="csv"
    )

    assert content_type.startswith("text/csv") and filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0][1:] == ["Statement 2025-09", "NOK"]
    assert rows[1] == ["date", "description", "available", "pending", "total", "balance"]
    assert rows[2] == ["2025-09-01", "Opening balance", "0.00", "10.00", "", "10.00"]
    assert rows[-1] == ["2025-09-30", "Closing balance", "3.00", "3.00", "", "6.00"]
    movements = rows[3:-1]
    assert len(movements) == 5
    assert movements[0][1:] == ["Cashback became available", "6.00", "-6.00", "0.00", "10.00"]
    assert sum(int(row[4].replace(".", "")) for row in movements) == 600 - 1000


def test_a_finished_month_is_stored_once_and_served_from_the_store():
    user = UserFactory()
    _history(user)

    first, _, _ = statements.statement_document(user=user, month="2025-09", currency="NOK", fmt="pdf")
    second, _, _ = statements.statement_document(user=user, month="2025-09", currency="NOK", fmt="pdf")
    statements.statement_document(user=user, month="2025-09", currency="NOK", fmt="csv")

    stored = Statement.objects.get()
    assert (stored.period.isoformat(), stored.currency, stored.opening_minor, stored.closing_minor) == (
        "2025-09-01",
        "NOK",
        1000,
        600,
    )
    assert first == second
    assert stored.pdf.name.startswith(f"statements/2025/09/{user.pk}/")


def test_the_current_month_is_generated_afresh_and_not_stored():
    user = UserFactory()
    pending, _ = consumer_accounts(user, "NOK")
    merchant = LedgerAccountFactory(kind=AccountKind.MERCHANT_FUNDING, currency="NOK")
    fund(merchant, 10_000, source=settlement_account("NOK"), kind=JournalKind.MERCHANT_FUNDING)
    post(JournalKind.REWARD_EARN, debit=merchant, credit=pending, amount=250)

    content, _, _ = statements.statement_document(user=user, month=Period.current().key, currency="NOK", fmt="csv")

    assert content.decode().splitlines()[-1].endswith(",2.50")
    assert not Statement.objects.exists()


# --- API -----------------------------------------------------------------------------------


@pytest.fixture
def app_client() -> AppClient:
    return AppClient()


@pytest.fixture
def app(app_client):
    user = UserFactory(email="statements@example.com", password=PASSWORD)
    response = app_client.post("/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    return app_client, user


def test_the_api_needs_a_session_token(app_client):
    assert app_client.get(API).status_code == 401
    assert app_client.get(f"{API}?month=2025-09&currency=NOK&format=pdf").status_code == 401


def test_the_api_lists_months_and_serves_pdf_csv_and_json(app):
    app_client, user = app
    _history(user)
    _history(UserFactory())  # someone else's history changes nothing here

    listed = app_client.get(API).json()["results"]
    assert [(row["month"], row["currency"], row["complete"]) for row in listed] == [
        ("2025-10", "NOK", True),
        ("2025-09", "NOK", True),
        ("2025-08", "NOK", True),
    ]

    pdf = app_client.get(listed[1]["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "Closing balance NOK 6.00" in " ".join(_pdf_text(pdf.content).split())
    assert 'filename="statement-2025-09-NOK.pdf"' in pdf["Content-Disposition"]

    csv_response = app_client.get(listed[1]["csv"])
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")

    figures = app_client.get(f"{API}?month=2025-09&currency=NOK&format=json").json()
    assert (figures["opening_total"], figures["closing_total"]) == ("10.00", "6.00")
    assert figures["closing"] == {"available": "3.00", "pending": "3.00"}
    assert len(figures["movements"]) == 5


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("month=2025-13&currency=NOK", "statement_month_invalid"),
        ("month=october&currency=NOK", "statement_month_invalid"),
        ("month=2999-01&currency=NOK", "statement_month_invalid"),
        ("month=2025-09&currency=XYZ", "statement_currency_invalid"),
        ("month=2025-09", "statement_currency_invalid"),
        ("month=2025-09&currency=NOK&format=docx", "statement_format_invalid"),
        ("month=2025-13&currency=NOK&format=json", "statement_month_invalid"),
    ],
)
def test_bad_requests_are_clear_4xx(app, query, code):
    app_client, _ = app

    response = app_client.get(f"{API}?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Statement.objects.exists()


# --- Web wallet ------------------------------------------------------------------------------


def test_the_statements_page_lists_months_and_downloads(client):
    user = UserFactory()
    _history(user)
    client.force_login(user)

    content = client.get(reverse("wallet:statements")).content.decode()

    assert "September 2025" in content and "August 2025" in content
    assert "month=2025-09&amp;currency=NOK&amp;format=pdf" in content
    assert "style=" not in content
    download = client.get(reverse("wallet:statement_download"), {"month": "2025-09", "currency": "NOK"})
    assert download.status_code == 200 and download.content.startswith(b"%PDF")


def test_the_statements_page_without_activity_shows_the_empty_state(client):
    client.force_login(UserFactory())

    assert "No statements yet" in client.get(reverse("wallet:statements")).content.decode()


def test_a_bad_download_shows_a_page_with_the_reason(client):
    client.force_login(UserFactory())

    response = client.get(reverse("wallet:statement_download"), {"month": "2025-99", "currency": "NOK"})

    assert response.status_code == 400
    assert "YYYY-MM" in response.content.decode()


def test_the_pages_need_a_login(client):
    assert client.get(reverse("wallet:statements")).status_code == 302
    assert client.get(reverse("wallet:statement_download"), {"month": "2025-09", "currency": "NOK"}).status_code == 302


# --- Monthly task ------------------------------------------------------------------------------


def test_the_monthly_task_stores_each_statement_and_tells_each_consumer_once(django_capture_on_commit_callbacks):
    dina, ola, idle = UserFactory(), UserFactory(), UserFactory()
    _history(dina, "NOK")
    _history(dina, "SEK")
    _history(ola, "NOK")

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.statements_monthly("2025-09") == 3
        assert tasks.statements_monthly("2025-09") == 3  # run twice

    assert sorted(Statement.objects.values_list("user_id", "currency")) == [
        (dina.pk, "NOK"),
        (dina.pk, "SEK"),
        (ola.pk, "NOK"),
    ]
    notes = Notification.objects.filter(kind="statement_ready")
    assert sorted(notes.values_list("user_id", flat=True)) == [dina.pk, dina.pk, ola.pk]
    assert not Notification.objects.filter(user=idle).exists()
    note = notes.filter(user=ola).get()
    assert "September 2025" in note.title and "NOK\xa06.00" in note.body
    assert "month=2025-09" in note.url


def test_the_monthly_task_is_scheduled_on_the_first_of_the_month(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["wallet-statements-monthly"]

    assert entry["task"] == "wallet.tasks.statements_monthly"
    assert entry["schedule"].day_of_month == {1}
