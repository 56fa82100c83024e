"""Random sequences of ledger operations keep the ledger's invariants (hypothesis, stateful).

The machine keeps its own model of what every balance should be and checks the
database against it and against the entries after every step. Each example runs in a
savepoint that is rolled back, so examples do not see each other's rows.
"""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Case, F, Sum, When
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from wallet.errors import HoldNotPendingError, IdempotencyConflictError, InsufficientFundsError
from wallet.models import AccountKind, Direction, Entry, Hold, JournalKind, JournalTransaction, LedgerAccount
from wallet.services import (
    EntrySpec,
    TransferRequest,
    hold_place,
    hold_post,
    hold_void,
    transaction_post,
    transactions_post_batch,
    transfer,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CURRENCIES = ("NOK", "EUR")
ACCOUNTS_PER_CURRENCY = 3  # may not go negative; plus one outside-world account per currency
amounts = st.integers(min_value=1, max_value=5_000)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        run = uuid.uuid4().hex[:10]
        self.outside = {
            currency: LedgerAccount.objects.create(
                owner_key=f"prop:{run}", kind=AccountKind.SETTLEMENT, currency=currency, allows_negative=True
            )
            for currency in CURRENCIES
        }
        self.accounts = {
            currency: [
                LedgerAccount.objects.create(
                    owner_key=f"prop:{run}:{i}", kind=AccountKind.MERCHANT_FUNDING, currency=currency
                )
                for i in range(ACCOUNTS_PER_CURRENCY)
            ]
            for currency in CURRENCIES
        }
        everyone = [*self.outside.values(), *(a for accounts in self.accounts.values() for a in accounts)]
        self.expected_balance = {account.pk: 0 for account in everyone}
        self.expected_pending = {account.pk: 0 for account in everyone}
        self.posted: list[dict] = []  # requests that succeeded, for replays
        self.pending_holds: list[Hold] = []
        self.resolved_holds: list[Hold] = []

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ---

    def _available(self, account: LedgerAccount) -> int:
        return self.expected_balance[account.pk] - self.expected_pending[account.pk]

    def _post(self, request: dict) -> None:
        transaction_post(**request)
        for spec in request["entries"]:
            self.expected_balance[spec.account.pk] += (
                spec.amount if spec.direction == Direction.CREDIT else -spec.amount
            )
        self.posted.append(request)

    def _snapshot(self) -> tuple:
        return (
            JournalTransaction.objects.count(),
            Entry.objects.count(),
            tuple(LedgerAccount.objects.order_by("pk").values_list("balance", "pending_debits", "version")),
        )

    # --- rules ---

    @rule(currency=st.sampled_from(CURRENCIES), index=st.integers(0, ACCOUNTS_PER_CURRENCY - 1), amount=amounts)
    def credit(self, currency: str, index: int, amount: int) -> None:
        account = self.accounts[currency][index]
        self._post(
            {
                "idempotency_key": f"credit:{uuid.uuid4().hex}",
                "kind": JournalKind.ADJUSTMENT,
                "entries": transfer(debit=self.outside[currency], credit=account, amount=amount),
            }
        )

    @rule(
        currency=st.sampled_from(CURRENCIES),
        index=st.integers(0, ACCOUNTS_PER_CURRENCY - 1),
        split=st.lists(amounts, min_size=1, max_size=3),
    )
    def debit(self, currency: str, index: int, split: list[int]) -> None:
        """Debit one account, crediting the others (and the outside world) in several entries."""
        account = self.accounts[currency][index]
        others = [a for a in self.accounts[currency] if a.pk != account.pk] + [self.outside[currency]]
        entries = [EntrySpec.debit(account, sum(split))] + [
            EntrySpec.credit(others[i % len(others)], part) for i, part in enumerate(split)
        ]
        request = {"idempotency_key": f"debit:{uuid.uuid4().hex}", "kind": JournalKind.SPEND, "entries": entries}
        if sum(split) > self._available(account):
            with pytest.raises(InsufficientFundsError):
                transaction_post(**request)
        else:
            self._post(request)

    @rule(
        moves=st.lists(
            st.tuples(
                st.sampled_from(CURRENCIES),
                st.integers(0, ACCOUNTS_PER_CURRENCY),  # the last index is the outside world
                st.integers(0, ACCOUNTS_PER_CURRENCY),
                amounts,
            ),
            min_size=1,
            max_size=4,
        )
    )
    def batch(self, moves: list[tuple[str, int, int, int]]) -> None:
        """Several transfers in one batch: all posted, or none if one would overdraw (checked in order)."""
        requests, available, overdraws = [], {}, False
        for currency, debit_index, credit_index, amount in moves:
            pool = [*self.accounts[currency], self.outside[currency]]
            debit, credit = pool[debit_index], pool[(credit_index + (credit_index == debit_index)) % len(pool)]
            if debit.pk == credit.pk:
                continue
            requests.append(
                TransferRequest(
                    idempotency_key=f"batch:{uuid.uuid4().hex}",
                    kind=JournalKind.ADJUSTMENT,
                    entries=transfer(debit=debit, credit=credit, amount=amount),
                )
            )
            for account, delta in ((debit, -amount), (credit, amount)):
                available.setdefault(account.pk, self._available(account))
                if delta < 0 and not account.allows_negative and available[account.pk] + delta < 0:
                    overdraws = True
                available[account.pk] += delta
        before = self._snapshot()
        if overdraws:
            with pytest.raises(InsufficientFundsError):
                transactions_post_batch(requests=requests)
            assert self._snapshot() == before
            return
        journals = transactions_post_batch(requests=requests)
        assert len(journals) == len(requests)
        for request in requests:
            for spec in request.entries:
                self.expected_balance[spec.account.pk] += (
                    spec.amount if spec.direction == Direction.CREDIT else -spec.amount
                )

    @rule(currency=st.sampled_from(CURRENCIES), index=st.integers(0, ACCOUNTS_PER_CURRENCY - 1), data=st.data())
    def place_hold(self, currency: str, index: int, data: st.DataObject) -> None:
        account = self.accounts[currency][index]
        # Mostly affordable holds, so that posts and voids have something to work on.
        affordable = self._available(account) > 0 and data.draw(st.integers(0, 3)) > 0
        amount = data.draw(st.integers(1, self._available(account)) if affordable else amounts)
        request = {
            "idempotency_key": f"hold:{uuid.uuid4().hex}",
            "account": account,
            "counterparty": self.outside[currency],
            "amount": amount,
            "expires_at": timezone.now() + timedelta(hours=1),
        }
        if amount > self._available(account):
            with pytest.raises(InsufficientFundsError):
                hold_place(**request)
            return
        self.pending_holds.append(hold_place(**request))
        self.expected_pending[account.pk] += amount

    @precondition(lambda self: self.pending_holds)
    @rule(data=st.data())
    def post_hold(self, data: st.DataObject) -> None:
        hold = self.pending_holds.pop(data.draw(st.integers(0, len(self.pending_holds) - 1)))
        amount = data.draw(st.integers(1, hold.amount))
        hold_post(hold=hold, idempotency_key=f"capture:{uuid.uuid4().hex}", amount=amount)
        self.expected_pending[hold.account_id] -= hold.amount
        self.expected_balance[hold.account_id] -= amount
        self.expected_balance[hold.counterparty_id] += amount
        self.resolved_holds.append(hold)

    @precondition(lambda self: self.pending_holds)
    @rule(data=st.data())
    def void_hold(self, data: st.DataObject) -> None:
        hold = self.pending_holds.pop(data.draw(st.integers(0, len(self.pending_holds) - 1)))
        hold_void(hold=hold)
        self.expected_pending[hold.account_id] -= hold.amount
        self.resolved_holds.append(hold)

    @precondition(lambda self: self.resolved_holds)
    @rule(data=st.data())
    def resolve_again(self, data: st.DataObject) -> None:
        hold = data.draw(st.sampled_from(self.resolved_holds))
        before = self._snapshot()
        hold.refresh_from_db()
        if hold.status == Hold.Status.VOIDED:
            hold_void(hold=hold)  # idempotent
        with pytest.raises(HoldNotPendingError):
            hold_post(hold=hold, idempotency_key=f"capture:{uuid.uuid4().hex}")
        assert self._snapshot() == before

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        request = data.draw(st.sampled_from(self.posted))
        before = self._snapshot()
        first = JournalTransaction.objects.get(idempotency_key=request["idempotency_key"])

        assert transaction_post(**request).pk == first.pk
        assert self._snapshot() == before

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def replay_different_request(self, data: st.DataObject) -> None:
        request = data.draw(st.sampled_from(self.posted))
        before = self._snapshot()
        changed = {**request, "memo": "not the same request"}

        with pytest.raises(IdempotencyConflictError):
            transaction_post(**changed)
        assert self._snapshot() == before

    # --- invariants ---

    @invariant()
    def entries_sum_to_zero_per_currency(self) -> None:
        signed = Case(When(direction=Direction.CREDIT, then=F("amount")), default=-F("amount"))
        sums = Entry.objects.values("currency").annotate(net=Sum(signed)).order_by()
        assert all(row["net"] == 0 for row in sums), list(sums)

    @invariant()
    def cached_balances_equal_entry_sums_and_the_model(self) -> None:
        signed = Case(When(direction=Direction.CREDIT, then=F("amount")), default=-F("amount"))
        entry_sums = dict(
            Entry.objects.filter(account_id__in=self.expected_balance)
            .values("account_id")
            .annotate(net=Sum(signed))
            .order_by()
            .values_list("account_id", "net")
        )
        for pk, balance, pending in LedgerAccount.objects.filter(pk__in=self.expected_balance).values_list(
            "pk", "balance", "pending_debits"
        ):
            assert balance == entry_sums.get(pk, 0) == self.expected_balance[pk]
            assert pending == self.expected_pending[pk]

    @invariant()
    def no_non_negative_account_below_zero(self) -> None:
        assert not LedgerAccount.objects.filter(allows_negative=False, balance__lt=F("pending_debits")).exists()

    @invariant()
    def pending_debits_equal_pending_holds(self) -> None:
        held = dict(
            Hold.objects.filter(status=Hold.Status.PENDING)
            .values("account_id")
            .annotate(total=Sum("amount"))
            .order_by()
            .values_list("account_id", "total")
        )
        for pk, pending in LedgerAccount.objects.values_list("pk", "pending_debits"):
            assert pending == held.get(pk, 0)


def test_random_operation_sequences_keep_the_ledger_invariants():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
