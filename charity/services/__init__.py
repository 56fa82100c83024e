"""Writes of the charity app; each module holds one job, and callers import from here.

- ``charities``: partner charities (staff): ``charity_create``, ``charity_update``.
- ``payable_accounts``: ``charity_payable_account_open``, the account holding what a charity is owed.
- ``donations``: ``donation_give`` (the doors' entry), ``donation_make``, ``donation_make_all``,
  auto-donate (``auto_donate_set``, the ``reward_available`` subscriber).
- ``disbursements``: the monthly transfer to each charity, exactly once.

Every movement of money is a ledger transaction (``wallet.services.transaction_post``) with an
idempotency key derived from its cause. docs/charity.md describes the flows.
"""

from charity.services.charities import charity_create, charity_update
from charity.services.disbursements import (
    disbursement_fail,
    disbursement_key,
    disbursement_open,
    disbursement_record_paid,
    disbursement_send,
    disbursements_open_due,
)
from charity.services.donations import (
    MAX_CLIENT_KEY_LENGTH,
    DonationOutcome,
    auto_donate_on_reward_available,
    auto_donate_set,
    auto_donation_key,
    donation_give,
    donation_journal_key,
    donation_make,
    donation_make_all,
    share_of,
)
from charity.services.payable_accounts import charity_payable_account_open

__all__ = [
    "MAX_CLIENT_KEY_LENGTH",
    "DonationOutcome",
    "auto_donate_on_reward_available",
    "auto_donate_set",
    "auto_donation_key",
    "charity_create",
    "charity_payable_account_open",
    "charity_update",
    "disbursement_fail",
    "disbursement_key",
    "disbursement_open",
    "disbursement_record_paid",
    "disbursement_send",
    "disbursements_open_due",
    "donation_give",
    "donation_journal_key",
    "donation_make",
    "donation_make_all",
    "share_of",
]
