"""Domain errors of the rewards catalogue and the e-vouchers. Codes are stable: pages and tests rely on them."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from cashback.errors import ConflictError, DomainError, NotFoundError


class InvalidRewardItemError(DomainError):
    code = "invalid_reward_item"
    default_message = _("The reward is not valid.")


class RewardUnavailableError(ConflictError):
    code = "reward_unavailable"
    default_message = _("This reward cannot be redeemed now.")


class OutOfStockError(ConflictError):
    code = "out_of_stock"
    default_message = _("This reward is out of stock.")


class NotEligibleError(DomainError):
    code = "not_eligible"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = _("This reward is not offered to you.")


class InsufficientPointsError(ConflictError):
    code = "insufficient_points"
    default_message = _("You do not have enough points for this reward.")


class InsufficientCashbackError(ConflictError):
    code = "insufficient_cashback"
    default_message = _("You do not have enough available cashback for this reward.")


class IdempotencyKeyRequiredError(DomainError):
    code = "idempotency_key_required"
    default_message = _("Send an Idempotency-Key header (1 to 255 printable characters) with this request.")


class NoVoucherCodeLeftError(ConflictError):
    code = "no_voucher_code_left"
    default_message = _("No voucher code is left for this reward; nothing was taken from you.")


class VoucherFileError(DomainError):
    """A code file with bad lines: ``rows`` lists (line number, message); nothing of it was stored."""

    code = "invalid_voucher_file"
    default_message = _("The file has errors; none of its codes were stored.")

    def __init__(self, message: str | None = None, *, rows: list[tuple[int, str]]) -> None:
        self.rows = rows
        super().__init__(message)


class DuplicateVoucherFileError(ConflictError):
    code = "duplicate_voucher_file"
    default_message = _("This file was uploaded before; none of its codes were stored again.")


class VoucherBatchNotPendingError(ConflictError):
    code = "voucher_batch_not_pending"
    default_message = _("Only a batch waiting for finance can be activated.")


class VoucherNotFoundError(NotFoundError):
    code = "voucher_not_found"
    default_message = _("No such voucher.")


class VoucherNotVoidableError(ConflictError):
    code = "voucher_not_voidable"
    default_message = _("Only a code that was not issued to a member can be voided.")


class PhoneNotVerifiedError(ConflictError):
    code = "phone_not_verified"
    default_message = _("Add and verify your mobile number in your profile first: the code is sent to it by SMS.")


class ClaimCodeWrongError(DomainError):
    code = "claim_code_wrong"
    default_message = _("That code is not right.")


class ClaimCodeExpiredError(DomainError):
    code = "claim_code_expired"
    default_message = _("That code has expired. Ask for a new one.")


class ClaimLockedError(DomainError):
    code = "claim_locked"
    http_status = status.HTTP_423_LOCKED
    default_message = _("Too many wrong codes: for your safety this voucher is locked for a while.")


class ClaimResendLimitError(DomainError):
    code = "claim_resend_limit"
    http_status = status.HTTP_429_TOO_MANY_REQUESTS
    default_message = _("You have asked for a code too many times. Try again later.")


class SmsNotSentError(DomainError):
    code = "sms_not_sent"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = _("We could not send the SMS just now. Try again in a minute.")
