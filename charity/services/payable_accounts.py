"""The ledger account per charity and currency that holds what the charity is owed."""

from charity import selectors
from charity.errors import CharityNotFoundError
from charity.models import Charity
from wallet.models import AccountKind, LedgerAccount
from wallet.services import account_get_or_create


def charity_payable_account_open(*, charity_id: int, currency: str) -> LedgerAccount:
    """The ledger account holding what is owed to the charity in ``currency``, opened on first use.

    Used by donations here and by charity-reward offers (campaigns), which credit it from the
    merchant's funding with the consumer in ``causes``. Raises ``CharityNotFoundError`` for an
    unknown charity (and opens nothing); an inactive charity still has its account (rewards
    promised by a live offer are still owed to it). ``charity.selectors.charity_payable_account``
    reads it without opening it.
    """
    if not Charity.objects.filter(pk=charity_id).exists():
        raise CharityNotFoundError()
    return account_get_or_create(
        kind=AccountKind.CHARITY_PAYABLE, currency=currency, owner_key=selectors.charity_owner_key(charity_id)
    )
