"""Staff and owners acting at the same moment, each thread on its own PostgreSQL connection."""

from collections import Counter

import pytest

from merchants import services
from merchants.models import AuditEvent, Membership, Merchant, MerchantInvoice
from merchants.services.billing_invoices import invoices_close_month
from tests.accounts.factories import StaffUserFactory
from tests.concurrency import run_together
from tests.merchants.factories import MembershipFactory, MerchantFactory
from tests.merchants.test_billing import Books, after_month, this_month
from wallet.models import JournalTransaction, LedgerAccount

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_approvals_open_one_set_of_ledger_accounts():
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)
    staff = StaffUserFactory()

    results = run_together(lambda _: services.merchant_approve(merchant=merchant, actor=staff), threads=8)

    assert Counter(type(result).__name__ for result in results) == {
        "Merchant": 1,
        "InvalidStatusTransitionError": 7,
    }
    assert LedgerAccount.objects.filter(owner_key=f"merchant:{merchant.pk}").count() == 2
    assert AuditEvent.objects.filter(action="merchant.approved").count() == 1


def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    merchant = MerchantFactory()
    owners = [MembershipFactory(merchant=merchant, role=Membership.Role.OWNER) for _ in range(2)]

    results = run_together(
        lambda i: services.membership_change_role(membership=owners[i], actor=owners[1 - i].user, role="analyst"),
        threads=2,
    )

    assert Counter(type(result).__name__ for result in results) == {"Membership": 1, "LastOwnerError": 1}
    assert merchant.memberships.filter(role=Membership.Role.OWNER).count() == 1


def test_the_monthly_run_twice_at_once_makes_one_invoice_and_one_set_of_ledger_entries(settings):
    settings.STRIPE_PROVIDER = "fake"
    merchant = MerchantFactory()
    books = Books(merchant)
    books.prepay(100_000)
    books.reward(12_345)
    books.spend(1_000)

    results = run_together(lambda _: invoices_close_month(period=this_month(), now=after_month()), threads=2)

    assert MerchantInvoice.objects.count() == 1
    invoice = MerchantInvoice.objects.get()
    assert results == [[invoice.pk], [invoice.pk]]
    keys = list(
        JournalTransaction.objects.filter(idempotency_key__startswith=invoice.ledger_key).values_list(
            "idempotency_key", flat=True
        )
    )
    assert sorted(keys) == sorted({f"{invoice.ledger_key}:commission", f"{invoice.ledger_key}:funding"})
