"""Closing a contract: cancelled by its regional head (or the programme admin), or expired after its last
day (a daily beat task). Whatever approval committed of the region's budget and no tier paid goes back
to the budget, in the same transaction that closes the contract, so the budget's ``committed`` always
equals the sum over its open contracts plus what closed ones paid.

Lock order, as everywhere in programmes: the contract's row, then the region budget's row.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from programmes.errors import ContractNotOpenError, InvalidProgrammeError
from programmes.models import Contract, ContractEvent, FieldRole, FieldRoleKind
from programmes.services import (
    _budget_lock,
    _contract_lock,
    _contract_settle_locked,
    _event,
    _require_region,
    _require_role,
)


def _close_locked(contract: Contract, *, status: str, actor: FieldRole | None, reason: str) -> int:
    """Close the locked contract and release its unpaid commitment; returns the amount released."""
    released = contract.committed_minor - contract.paid_minor
    if released > 0:
        budget = _budget_lock(programme_id=contract.programme_id, region_id=contract.customer.region_id)
        budget.committed_minor -= released
        budget.save(update_fields=["committed_minor", "updated_at"])
    contract.status = status
    contract.committed_minor = contract.paid_minor
    contract.decision_reason = reason[:300] or contract.decision_reason
    contract.save(update_fields=["status", "committed_minor", "decision_reason", "updated_at"])
    action = ContractEvent.Action.CANCELLED if status == Contract.Status.CANCELLED else ContractEvent.Action.EXPIRED
    _event(contract, action, actor.user if actor else None, released_minor=released, reason=reason)
    return released


@transaction.atomic
def contract_cancel(*, role: FieldRole, contract: Contract, reason: str) -> Contract:
    """The regional head of the customer's region, or the programme admin, cancels a proposed or approved
    contract; what it committed and did not pay returns to the region's budget. Needs a reason."""
    _require_role(role, FieldRoleKind.REGIONAL_HEAD, FieldRoleKind.PROGRAMME_ADMIN)
    contract = _contract_lock(contract)
    _require_region(role, contract.customer.region)
    if contract.status not in (Contract.Status.PROPOSED, Contract.Status.APPROVED):
        raise ContractNotOpenError()
    if not reason.strip():
        raise InvalidProgrammeError(gettext("Give a reason."), fields={"reason": [gettext("Give a reason.")]})
    _close_locked(contract, status=Contract.Status.CANCELLED, actor=role, reason=reason.strip())
    return contract


def contracts_expire(*, today: datetime.date | None = None) -> int:
    """Expire every approved contract whose last day has passed: counted one last time (a tier reached
    on its last day is still paid), then closed and its unpaid commitment released. Each contract in a
    transaction of its own; running it twice changes nothing. Returns how many expired."""
    today = today or timezone.localdate()
    due = Contract.objects.filter(status=Contract.Status.APPROVED, expires_on__lt=today).order_by("pk")
    expired = 0
    for contract_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            contract = _contract_lock(Contract(pk=contract_id))
            if contract.status != Contract.Status.APPROVED:
                continue
            _contract_settle_locked(contract)
            _close_locked(contract, status=Contract.Status.EXPIRED, actor=None, reason="")
            expired += 1
    return expired
