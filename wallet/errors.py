"""The ledger's domain errors; each has a stable ``code`` for the API and the pages."""

from django.utils.translation import gettext_lazy
from rest_framework import status

from cashback.errors import ConflictError, DomainError, PermissionDeniedError


class InvalidLedgerRequestError(DomainError):
    code = "invalid_ledger_request"
    default_message = gettext_lazy("The ledger request is not valid.")


class UnbalancedTransactionError(InvalidLedgerRequestError):
    code = "unbalanced_transaction"
    default_message = gettext_lazy("Debits and credits must balance in every currency.")


class UnknownAccountError(InvalidLedgerRequestError):
    code = "unknown_account"
    default_message = gettext_lazy("The ledger account does not exist.")


class UnknownCurrencyError(InvalidLedgerRequestError):
    code = "unknown_currency"
    default_message = gettext_lazy("The ledger does not hold this currency.")


class InvalidAmountError(InvalidLedgerRequestError):
    code = "invalid_amount"
    default_message = gettext_lazy("Amounts are positive and exact in the currency's minor units.")


class TooManyDecimalsError(InvalidAmountError):
    code = "too_many_decimals"
    default_message = gettext_lazy("The amount has more decimals than its currency.")


class CurrencyMismatchError(InvalidLedgerRequestError):
    code = "currency_mismatch"
    default_message = gettext_lazy("The amount's currency does not match the account's.")


class InsufficientFundsError(ConflictError):
    code = "insufficient_funds"
    default_message = gettext_lazy("There is not enough money available on the account.")


class IdempotencyConflictError(ConflictError):
    code = "idempotency_conflict"
    default_message = gettext_lazy("This idempotency key was already used for a different request.")


class HoldNotPendingError(ConflictError):
    code = "hold_not_pending"
    default_message = gettext_lazy("The hold has already been resolved.")


class HoldExpiredError(ConflictError):
    code = "hold_expired"
    default_message = gettext_lazy("The hold has expired.")


class HoldAmountExceededError(InvalidLedgerRequestError):
    code = "hold_amount_exceeded"
    http_status = status.HTTP_400_BAD_REQUEST
    default_message = gettext_lazy("The amount is larger than the amount reserved by the hold.")


# --- Payouts and spending at checkout (wallet.payouts, wallet.spending) ---------------


class PayoutBelowMinimumError(InvalidAmountError):
    code = "payout_below_minimum"
    default_message = gettext_lazy("The amount is below the smallest payout.")


class PayoutAccountNotReadyError(ConflictError):
    code = "payouts_not_set_up"
    default_message = gettext_lazy("Set up payouts (your bank details with Stripe) before asking for a payout.")


class PayoutExceedsBalanceError(InsufficientFundsError):
    default_message = gettext_lazy("The amount is more than your available cashback.")


class PayoutNotHeldError(ConflictError):
    code = "payout_not_held"
    default_message = gettext_lazy("Only a payout held for review can be released or rejected.")


class SpendCodeNotFoundError(DomainError):
    code = "spend_code_not_found"
    http_status = status.HTTP_404_NOT_FOUND
    default_message = gettext_lazy("No such spend code.")


class SpendCodeExpiredError(ConflictError):
    code = "spend_code_expired"
    default_message = gettext_lazy("The spend code has expired; ask the customer for a new one.")


class SpendCodeUsedError(ConflictError):
    code = "spend_code_used"
    default_message = gettext_lazy("The spend code has already been used; ask the customer for a new one.")


class NothingToSpendError(ConflictError):
    code = "nothing_to_spend"
    default_message = (
        "You have no cashback available to spend yet. Cashback becomes available when a purchase's "
        "waiting time has passed; a code is issued once there is some."
    )


class SpendHoldNotFoundError(DomainError):
    code = "spend_hold_not_found"
    http_status = status.HTTP_404_NOT_FOUND
    default_message = gettext_lazy("No such hold for this merchant.")


class StripeUnavailableError(DomainError):
    code = "stripe_unavailable"
    http_status = status.HTTP_502_BAD_GATEWAY
    default_message = gettext_lazy("Stripe could not be reached. Please try again in a minute.")


# --- Manual adjustments (wallet.adjustments) ---------------------------------------------


class AdjustmentNotProposedError(ConflictError):
    code = "adjustment_not_proposed"
    default_message = gettext_lazy("This adjustment has already been approved or rejected.")


class AdjustmentOwnDecisionError(PermissionDeniedError):
    code = "adjustment_own_decision"
    default_message = gettext_lazy("A different person must approve or reject an adjustment you proposed.")


class AdjustmentAccountNotAllowedError(InvalidLedgerRequestError):
    code = "adjustment_account_not_allowed"
    default_message = gettext_lazy(
        "Only a consumer's available cashback, a merchant's or a charity's account can be adjusted."
    )
