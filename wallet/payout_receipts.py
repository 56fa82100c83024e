"""Automatic payouts at a period end, and the receipt that follows Stripe's confirmation (issue 21).

``payout_request_automatic`` pays a person's whole available balance in one currency through the
ordinary payout rails (``payout_request``: the same checks, ledger posting, Stripe keys and
webhooks), keyed by ``auto:<programme kind>:<CUR>:<YYYY-MM>`` so that a period is paid once however
often it is asked. Who is paid, and when, is the caller's business (campaigns' business cashback).

``payout_receipt_send`` e-mails the receipt of a paid automatic payout, with a PDF (WeasyPrint),
once: the payout's row lock is held while it is sent and ``receipt_sent_at`` is set in the same
transaction, so a second run, or two at once, sends nothing more. (A crash after the mail server
accepted the message but before the commit sends it again on the retry: a duplicate receipt is
harmless, a missing one is not.)
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from weasyprint import HTML

from cashback.formatting import format_date, format_money, person_locale
from wallet.errors import InvalidAmountError
from wallet.models import AccountKind, LedgerAccount, Payout, PayoutStatus
from wallet.payouts import AUTOMATIC_KEY_PREFIX, payout_request

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

RECEIPT_RESUME_AFTER = timedelta(minutes=10)


def automatic_payout_key(*, programme: str, currency: str, period: date) -> str:
    """The payout's idempotency key, e.g. ``auto:billing:NOK:2026-11``: one payout per period."""
    return f"{AUTOMATIC_KEY_PREFIX}{programme}:{currency}:{period:%Y-%m}"


def available_to_pay(*, user_id: int, currency: str) -> int:
    """The person's available cashback in ``currency`` less what holds reserve (0 without an account)."""
    account = LedgerAccount.objects.filter(
        user_id=user_id, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency
    ).first()
    return max(account.available, 0) if account else 0


def payout_request_automatic(*, user: User, currency: str, programme: str, period: date) -> Payout:
    """Pay the person's available ``currency`` balance out, once per ``programme`` and ``period``.

    A payout already made for the period is returned as it is (a rerun pays nothing twice).
    Otherwise the refusals of ``payout_request`` apply (blocked, no connected account ready, below
    the minimum, ...), and ``InvalidAmountError`` when nothing is available.
    """
    key = automatic_payout_key(programme=programme, currency=currency, period=period)
    existing = Payout.objects.filter(user=user, client_key=key).first()
    if existing is not None:
        return existing
    amount = available_to_pay(user_id=user.pk, currency=currency)
    if amount <= 0:
        raise InvalidAmountError(_("No available cashback in %(currency)s to pay out.") % {"currency": currency})
    return payout_request(user=user, amount_minor=amount, currency=currency, client_key=key, automatic=True)


def _period_label(client_key: str) -> str:
    """``auto:billing:NOK:2026-11`` → "November 2026" in the active language (the key as it is if odd)."""
    tail = client_key.rsplit(":", 1)[-1]
    try:
        return format_date(datetime.strptime(tail, "%Y-%m").date(), "month")
    except ValueError:
        return tail


def payout_receipt_pdf(payout: Payout) -> bytes:
    """The receipt of a paid payout as PDF bytes, in the active language and time zone (the sender
    wraps it in ``person_locale``)."""
    html = render_to_string(
        "wallet/payout_receipt_pdf.html",
        {
            "payout": payout,
            "period": _period_label(payout.client_key),
            "amount": format_money(payout.amount, payout.currency),
            "platform_name": settings.PLATFORM_NAME,
            "site_url": settings.SITE_URL,
            "time_zone": timezone.get_current_timezone_name(),
            "issued_at": timezone.localtime(),
        },
    )
    # No base_url: the receipt uses no files, so WeasyPrint fetches nothing.
    return HTML(string=html).write_pdf()


def payout_receipt_send(*, payout_id: int) -> bool:
    """E-mail the receipt of a paid automatic payout once; returns whether it was sent now.

    Nothing is sent for a payout that is not automatic, not paid (a failed one gets none), already
    receipted, or whose owner has no e-mail address (logged)."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().select_related("user").get(pk=payout_id)
        if not payout.automatic or payout.status != PayoutStatus.PAID or payout.receipt_sent_at is not None:
            return False
        if not payout.user.email:
            logger.warning("Payout %s: no e-mail address for its receipt", payout.pk)
            return False
        with person_locale(payout.user):  # the person's language and time zone, whoever runs the task
            amount = format_money(payout.amount, payout.currency)
            message = EmailMessage(
                subject=_("Receipt: your cashback of %(amount)s is paid") % {"amount": amount},
                body=render_to_string("wallet/payout_receipt_email.txt", {"payout": payout, "amount": amount}),
                to=[payout.user.email],
            )
            message.attach(f"cashback-payout-{payout.pk}.pdf", payout_receipt_pdf(payout), "application/pdf")
        message.send()
        payout.receipt_sent_at = timezone.now()
        payout.save(update_fields=["receipt_sent_at", "updated_at"])
    return True


def payout_receipts_due(*, now: datetime | None = None) -> list[int]:
    """Paid automatic payouts whose receipt was not sent some minutes after payment (a lost task)."""
    now = now or timezone.now()
    return list(
        Payout.objects.filter(
            automatic=True,
            status=PayoutStatus.PAID,
            receipt_sent_at__isnull=True,
            paid_at__lt=now - RECEIPT_RESUME_AFTER,
        )
        .filter(user__email__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
