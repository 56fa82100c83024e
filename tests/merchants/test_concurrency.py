"""Staff and owners acting at the same moment, each thread on its own PostgreSQL connection."""

from collections import Counter

import pytest

from merchants import services
from merchants.models import AuditEvent, Membership, Merchant
from tests.accounts.factories import StaffUserFactory
from tests.concurrency import run_together
from tests.merchants.factories import MembershipFactory, MerchantFactory
from wallet.models import LedgerAccount

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
