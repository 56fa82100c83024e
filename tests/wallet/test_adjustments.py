"""Manual adjustments with a second approver (wallet.adjustments): only approval posts, once, against
the platform's adjustments account; nobody decides their own; every step is in the staff audit log."""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from accounts.models import StaffAuditEntry
from accounts.services import staff_roles_sync
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.concurrency import run_together
from tests.wallet.factories import consumer_accounts, fund
from wallet.adjustments import adjustment_approve, adjustment_propose, adjustment_reject
from wallet.errors import (
    AdjustmentAccountNotAllowedError,
    AdjustmentNotProposedError,
    AdjustmentOwnDecisionError,
    InsufficientFundsError,
)
from wallet.invariants import ledger_violations
from wallet.models import AccountKind, Adjustment, AdjustmentStatus, JournalKind, JournalTransaction, LedgerAccount


def finance_person():
    staff_roles_sync()
    person = StaffUserFactory(mfa=True)
    person.groups.add(Group.objects.get(name="finance"))
    return person


def propose(actor, *, user=None, owner_key="", kind=AccountKind.CONSUMER_AVAILABLE, direction="credit", amount=2_500):
    return adjustment_propose(
        actor=actor,
        kind=kind,
        currency="NOK",
        direction=direction,
        amount_minor=amount,
        reason="Goodwill after a lost receipt",
        user=user,
        owner_key=owner_key,
    )


def counter_account():
    return LedgerAccount.objects.get(owner_key="platform", kind=AccountKind.PLATFORM_ADJUSTMENTS, currency="NOK")


@pytest.mark.django_db
class TestProposeAndDecide:
    def test_a_proposal_posts_nothing_and_is_audited(self):
        proposer, person = finance_person(), UserFactory()

        adjustment = propose(proposer, user=person)

        assert adjustment.status == AdjustmentStatus.PROPOSED
        assert adjustment.account.balance == 0
        assert not JournalTransaction.objects.filter(kind=JournalKind.ADJUSTMENT).exists()
        entry = StaffAuditEntry.objects.get(action="adjustment.propose")
        assert entry.actor == proposer
        assert entry.actor_role == "finance"
        assert entry.target_id == str(adjustment.pk)
        assert entry.before is None
        assert entry.after["status"] == "proposed"
        assert entry.after["amount"] == "25.00"

    def test_approval_by_another_person_posts_one_balanced_transaction_against_the_adjustments_account(self):
        proposer, approver, person = finance_person(), finance_person(), UserFactory()
        adjustment = propose(proposer, user=person)

        approved = adjustment_approve(adjustment_id=adjustment.pk, actor=approver)

        assert approved.status == AdjustmentStatus.APPROVED
        assert approved.decided_by == approver
        journal = approved.journal
        assert journal.idempotency_key == f"adjustment:{adjustment.pk}"
        assert journal.kind == JournalKind.ADJUSTMENT
        _, available = consumer_accounts(person)
        assert available.balance == 2_500
        assert counter_account().balance == -2_500
        assert not ledger_violations()
        entry = StaffAuditEntry.objects.get(action="adjustment.approve")
        assert entry.actor == approver
        assert entry.before["status"] == "proposed"
        assert entry.after == {**entry.before, "status": "approved", "journal": journal.pk}

    def test_a_debit_takes_money_from_a_merchant_account(self):
        proposer, approver = finance_person(), finance_person()
        adjustment = propose(proposer, owner_key="merchant:9", kind=AccountKind.MERCHANT_FUNDING, direction="debit")
        fund(adjustment.account, 10_000)

        adjustment_approve(adjustment_id=adjustment.pk, actor=approver)

        adjustment.account.refresh_from_db()
        assert adjustment.account.balance == 7_500
        assert counter_account().balance == 2_500

    def test_nobody_approves_or_rejects_their_own_proposal(self):
        proposer, person = finance_person(), UserFactory()
        adjustment = propose(proposer, user=person)

        with pytest.raises(AdjustmentOwnDecisionError):
            adjustment_approve(adjustment_id=adjustment.pk, actor=proposer)
        with pytest.raises(AdjustmentOwnDecisionError):
            adjustment_reject(adjustment_id=adjustment.pk, actor=proposer)

        adjustment.refresh_from_db()
        assert adjustment.status == AdjustmentStatus.PROPOSED
        assert not JournalTransaction.objects.filter(kind=JournalKind.ADJUSTMENT).exists()
        assert not StaffAuditEntry.objects.filter(action__in=["adjustment.approve", "adjustment.reject"]).exists()

    def test_the_database_refuses_a_decision_by_the_proposer_too(self):
        proposer = finance_person()
        adjustment = propose(proposer, user=UserFactory())

        with pytest.raises(IntegrityError), transaction.atomic():
            Adjustment.objects.filter(pk=adjustment.pk).update(
                status="rejected", decided_by=proposer, decided_at=adjustment.created_at
            )

    def test_rejection_posts_nothing_and_a_decided_adjustment_cannot_be_decided_again(self):
        proposer, checker, person = finance_person(), finance_person(), UserFactory()
        adjustment = propose(proposer, user=person)

        adjustment_reject(adjustment_id=adjustment.pk, actor=checker, note="No receipt")

        with pytest.raises(AdjustmentNotProposedError):
            adjustment_approve(adjustment_id=adjustment.pk, actor=checker)
        adjustment.refresh_from_db()
        assert adjustment.status == AdjustmentStatus.REJECTED
        assert adjustment.decision_note == "No receipt"
        assert adjustment.journal is None
        assert not JournalTransaction.objects.filter(kind=JournalKind.ADJUSTMENT).exists()
        assert StaffAuditEntry.objects.get(action="adjustment.reject").after["note"] == "No receipt"

    def test_approving_twice_posts_once(self):
        proposer, approver, person = finance_person(), finance_person(), UserFactory()
        adjustment = propose(proposer, user=person)
        adjustment_approve(adjustment_id=adjustment.pk, actor=approver)

        with pytest.raises(AdjustmentNotProposedError):
            adjustment_approve(adjustment_id=adjustment.pk, actor=finance_person())

        assert JournalTransaction.objects.filter(kind=JournalKind.ADJUSTMENT).count() == 1
        assert StaffAuditEntry.objects.filter(action="adjustment.approve").count() == 1

    def test_a_debit_beyond_the_balance_is_refused_and_changes_nothing(self):
        proposer, approver, person = finance_person(), finance_person(), UserFactory()
        adjustment = propose(proposer, user=person, direction="debit", amount=1_000)

        with pytest.raises(InsufficientFundsError):
            adjustment_approve(adjustment_id=adjustment.pk, actor=approver)

        adjustment.refresh_from_db()
        assert adjustment.status == AdjustmentStatus.PROPOSED
        assert not StaffAuditEntry.objects.filter(action="adjustment.approve").exists()

    @pytest.mark.parametrize(
        "kind", [AccountKind.CONSUMER_PENDING, AccountKind.PLATFORM_REVENUE, AccountKind.SETTLEMENT]
    )
    def test_only_the_adjustable_accounts_may_be_adjusted(self, kind):
        with pytest.raises(AdjustmentAccountNotAllowedError):
            propose(finance_person(), user=UserFactory(), kind=kind)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_post_exactly_once():
    proposer, person = finance_person(), UserFactory()
    approvers = [finance_person() for _ in range(8)]
    adjustment = propose(proposer, user=person)

    results = run_together(lambda i: adjustment_approve(adjustment_id=adjustment.pk, actor=approvers[i]), threads=8)

    assert sum(isinstance(result, Adjustment) for result in results) == 1
    assert sum(isinstance(result, AdjustmentNotProposedError) for result in results) == 7
    assert JournalTransaction.objects.filter(kind=JournalKind.ADJUSTMENT).count() == 1
    assert StaffAuditEntry.objects.filter(action="adjustment.approve").count() == 1
    _, available = consumer_accounts(person)
    assert available.balance == 2_500
    assert not ledger_violations()
