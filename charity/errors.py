"""Domain errors of the charity app. Codes are stable: the API, the pages and the tests rely on them."""

from django.utils.translation import gettext_lazy

from cashback.errors import ConflictError, DomainError, NotFoundError


class CharityNotFoundError(NotFoundError):
    code = "charity_not_found"
    default_message = gettext_lazy("There is no such charity.")


class CharityInactiveError(DomainError):
    code = "charity_inactive"
    default_message = gettext_lazy("This charity does not take donations at the moment.")


class InvalidSharePercentError(DomainError):
    code = "invalid_share_percent"
    default_message = gettext_lazy("The share is a whole number from 0 to 100.")


class NothingToDonateError(ConflictError):
    code = "nothing_to_donate"
    default_message = gettext_lazy("There is no available balance to donate in this currency.")


class InvalidCharityError(DomainError):
    code = "invalid_charity"
    default_message = gettext_lazy("The charity's details are not valid.")


class DuplicateCharityError(ConflictError):
    code = "duplicate_charity"
    default_message = gettext_lazy("A charity with this slug or organisation number already exists.")


class DisbursementNotPossibleError(ConflictError):
    code = "disbursement_not_possible"
    default_message = gettext_lazy("This disbursement cannot be sent.")


class IdempotencyKeyRequiredError(DomainError):
    code = "idempotency_key_required"
    default_message = gettext_lazy(
        "Send an Idempotency-Key header (or idempotency_key) so that a retry never donates twice."
    )
