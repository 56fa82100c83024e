"""Domain errors raised by the merchants services. Codes are stable: clients and tests rely on them."""

from django.utils.translation import gettext_lazy

from cashback.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError

# Shared with charities and referred businesses (the validators live in the base app).
from cashback.organisation_numbers import InvalidCountryError, InvalidOrganisationNumberError  # noqa: F401


class DuplicateOrganisationNumberError(ConflictError):
    code = "duplicate_organisation_number"
    default_message = gettext_lazy("A merchant with this organisation number is already registered in this country.")


class CurrencyMismatchError(DomainError):
    code = "currency_mismatch"
    default_message = gettext_lazy("This currency is not available for merchants in the chosen country.")


class InvalidCategoryCodeError(DomainError):
    code = "invalid_category_code"
    default_message = gettext_lazy("The category code (MCC) has four digits.")


class InvalidStatusTransitionError(ConflictError):
    code = "invalid_status_transition"
    default_message = gettext_lazy("The merchant is not in a state that allows this.")


class ReasonRequiredError(DomainError):
    code = "reason_required"
    default_message = gettext_lazy("Give a reason: the merchant sees it.")


class InvalidRoleError(DomainError):
    code = "invalid_role"
    default_message = gettext_lazy("Choose a role: owner, manager or analyst.")


class AlreadyMemberError(ConflictError):
    code = "already_member"
    default_message = gettext_lazy("This person is already a member of the team.")


class LastOwnerError(ConflictError):
    code = "last_owner"
    default_message = gettext_lazy("A merchant always keeps at least one owner: make someone else owner first.")


class InvitationNotFoundError(NotFoundError):
    code = "invitation_not_found"
    default_message = gettext_lazy("This invitation link is not valid. Ask the merchant's owner for a new invitation.")


class InvitationExpiredError(DomainError):
    code = "invitation_expired"
    default_message = gettext_lazy("This invitation has expired. Ask the merchant's owner to send a new one.")


class InvitationUsedError(ConflictError):
    code = "invitation_used"
    default_message = gettext_lazy("This invitation has already been used.")


class InvitationRevokedError(ConflictError):
    code = "invitation_revoked"
    default_message = gettext_lazy("This invitation was withdrawn by the merchant.")


class InvitationWrongEmailError(PermissionDeniedError):
    code = "invitation_wrong_email"
    default_message = gettext_lazy(
        "This invitation was sent to another e-mail address. Log in with that address to accept it."
    )


class DuplicateNetworkIdsError(ConflictError):
    code = "duplicate_network_ids"
    default_message = gettext_lazy("Another shop already uses this card-network merchant id and store id.")


class InvalidNetworkIdsError(DomainError):
    code = "invalid_network_ids"
    default_message = gettext_lazy("Give both the card-network merchant id and the store id, or neither.")


class InvalidTimeZoneError(DomainError):
    code = "invalid_time_zone"
    default_message = gettext_lazy("Unknown time zone: use an IANA name such as Europe/Oslo.")


class InvalidOpeningHoursError(DomainError):
    code = "invalid_opening_hours"
    default_message = gettext_lazy("The opening hours are not valid.")


class InvalidCoordinatesError(DomainError):
    code = "invalid_coordinates"
    default_message = gettext_lazy(
        "Give both latitude and longitude (latitude -90 to 90, longitude -180 to 180), or neither."
    )


class LocationInUseError(ConflictError):
    code = "location_in_use"
    default_message = gettext_lazy("This shop has purchases or offers attached and cannot be deleted.")


class ApiKeyNotFoundError(NotFoundError):
    code = "api_key_not_found"
    default_message = gettext_lazy("No such API key at this merchant.")


class InvalidApiKeyNameError(DomainError):
    code = "invalid_api_key_name"
    default_message = gettext_lazy("Give the key a name (up to 100 characters), e.g. the system that will use it.")


class TooManyApiKeysError(ConflictError):
    code = "too_many_api_keys"
    default_message = gettext_lazy(
        "A merchant can have at most 20 active API keys: revoke one you no longer use first."
    )


class IdempotencyKeyRequiredError(DomainError):
    code = "idempotency_key_required"
    default_message = gettext_lazy("Send an Idempotency-Key header (1 to 255 printable characters) with this request.")


class IdempotencyConflictError(ConflictError):
    code = "idempotency_conflict"
    default_message = gettext_lazy("This Idempotency-Key was already used with a different request.")


class CustomerNotFoundError(NotFoundError):
    code = "customer_not_found"
    default_message = gettext_lazy(
        "No platform member matches this customer: give the e-mail address they use with us, "
        "or a customer reference you have linked to them."
    )


class StripeNotConfiguredError(DomainError):
    code = "stripe_not_configured"
    default_message = gettext_lazy("Connecting Stripe accounts is not available on this platform right now.")


class InvalidVatNumberError(DomainError):
    code = "invalid_vat_number"
    default_message = gettext_lazy("This is not a valid VAT number for the merchant's country.")


class InvalidCommissionRateError(DomainError):
    code = "invalid_commission_rate"
    default_message = gettext_lazy(
        "A commission rate is a fraction from 0 up to (not including) 1, with at most 4 decimals."
    )


class BillingPeriodOpenError(DomainError):
    code = "billing_period_open"
    default_message = gettext_lazy("A month is invoiced only once it is over.")


class InvoiceNotFoundError(NotFoundError):
    code = "invoice_not_found"
    default_message = gettext_lazy("No such invoice.")
