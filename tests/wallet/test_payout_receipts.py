"""The receipt of an automatic payout (issue 21): after Stripe's signed ``payout.paid`` an e-mail with
a PDF goes out once; a manual or failed payout gets none; a lost task is picked up by the sweep.
The last test runs the chain — webhook, settling, receipt — on a real Celery worker on Redis."""

import io
import uuid
from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone, translation
from pypdf import PdfReader

from tests.webhooks import STRIPE_CONNECT_SECRET, post_stripe
from wallet import tasks
from wallet.models import Payout, PayoutStatus
from wallet.payout_receipts import payout_receipt_send, payout_request_automatic
from wallet.payouts import payout_mark_failed, payout_mark_paid, payout_request

from .payout_support import payout_event, ready_consumer
from .test_payouts_acceptance import wait_for, worker  # noqa: F401 - the real-worker fixture

JANUARY = date(2025, 1, 1)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.STRIPE_PROVIDER = "fake"
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET
    settings.PAYOUT_MINIMUM_MINOR = 100
    settings.PAYOUT_MINIMUM_MINOR_BY_CURRENCY = {}
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 0


def _automatic(balance: int = 25_000) -> Payout:
    user = ready_consumer(balance=balance, email=f"{uuid.uuid4().hex[:8]}@firma.example")
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = payout_request_automatic(user=user, currency="NOK", programme="billing", period=JANUARY)
    payout.refresh_from_db()
    return payout


def _pdf_receipts() -> list:
    return [
        (message, attachment)
        for message in mail.outbox
        for attachment in message.attachments
        if attachment[2] == "application/pdf"
    ]


@pytest.mark.django_db
def test_a_paid_automatic_payout_sends_one_receipt_with_a_pdf():
    payout = _automatic()
    assert payout.status == PayoutStatus.PROCESSING and payout.client_key == "auto:billing:NOK:2025-01"

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post_stripe(payout_event("stripe_connect_payout_paid", payout), connect=True)
    assert response.status_code in (200, 202)

    [(message, (filename, content, _))] = _pdf_receipts()
    assert message.to == [payout.user.email]
    assert "NOK\u00a0250.00" in message.subject  # format_money in the person's language (English here)
    assert filename == f"cashback-payout-{payout.pk}.pdf" and content.startswith(b"%PDF")
    payout.refresh_from_db()
    assert payout.receipt_sent_at is not None
    # then again: the task, the service, a redelivered event — nothing more
    assert tasks.payout_receipt_send(payout.pk) is False
    with TestCase.captureOnCommitCallbacks(execute=True):
        post_stripe(payout_event("stripe_connect_payout_paid", payout), connect=True)
    assert len(_pdf_receipts()) == 1


@pytest.mark.django_db
def test_the_receipt_is_written_in_the_persons_language_and_time_zone():
    """E-mail and PDF follow the profile, not the language of whoever (or whatever) sends them."""

    payout = _automatic()
    type(payout.user).objects.filter(pk=payout.user_id).update(language="nb", time_zone="Europe/Helsinki")
    payout_mark_paid(payout_id=payout.pk)
    mail.outbox.clear()

    with translation.override("en"):
        assert payout_receipt_send(payout_id=payout.pk) is True

    [(message, (_, content, _))] = _pdf_receipts()
    assert message.subject == "Kvittering: kontantbonusen din på 250,00\u00a0kr er betalt"
    assert "Kontantbonusen din på 250,00\u00a0kr er betalt til bankkontoen din" in message.body
    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "Kvittering for utbetaling av kontantbonus" in pdf_text
    assert "januar 2025" in pdf_text and "Europe/Helsinki" in pdf_text
    assert translation.get_language() == "en"  # the override did not leak


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["manual payout", "failed payout", "no e-mail address", "unknown payout"])
def test_no_receipt_when_there_is_nothing_to_confirm(case):
    if case == "manual payout":
        user = ready_consumer(balance=25_000)
        payout = payout_request(user=user, amount_minor=10_000, currency="NOK")
        payout_mark_paid(payout_id=payout.pk)
    else:
        payout = _automatic()
        if case == "failed payout":
            payout_mark_failed(payout_id=payout.pk, code="account_closed", message="Closed", reverse_transfer=False)
        if case == "no e-mail address":
            phone = f"+479{payout.user_id % 10**7:07d}"
            type(payout.user).objects.filter(pk=payout.user_id).update(email=None, phone=phone)
            payout_mark_paid(payout_id=payout.pk)

    if case == "unknown payout":
        with pytest.raises(Payout.DoesNotExist):
            payout_receipt_send(payout_id=10**9)
    else:
        assert payout_receipt_send(payout_id=payout.pk) is False
    assert _pdf_receipts() == []


@pytest.mark.django_db
def test_the_sweep_sends_a_receipt_whose_task_was_lost():
    payout = _automatic()
    payout_mark_paid(payout_id=payout.pk)  # its on_commit task never runs here: as if lost
    Payout.objects.filter(pk=payout.pk).update(paid_at=timezone.now() - timedelta(hours=1))

    tasks.payouts_resume()  # eager: the receipt task runs at once
    tasks.payouts_resume()

    assert len(_pdf_receipts()) == 1


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
def test_the_receipt_follows_payout_paid_on_a_real_worker():
    # given an automatic payout that Stripe has (the worker made its transfer and payout, fake gateway)
    requested = _automatic()
    payout = wait_for(
        lambda: (
            Payout.objects.filter(pk=requested.pk, status=PayoutStatus.PROCESSING).exclude(stripe_payout_id="").first()
        ),
        timeout=120,
    )

    # when Stripe's signed payout.paid arrives at the Connect endpoint
    response = post_stripe(payout_event("stripe_connect_payout_paid", payout), connect=True)
    assert response.status_code == 202

    # then the worker settles it and sends the receipt, once
    paid = wait_for(lambda: Payout.objects.filter(pk=payout.pk, receipt_sent_at__isnull=False).first(), timeout=120)
    assert paid.status == PayoutStatus.PAID
    assert len(_pdf_receipts()) == 1
    assert tasks.payout_receipt_send.delay(payout.pk).get(timeout=120) is False
    assert len(_pdf_receipts()) == 1
