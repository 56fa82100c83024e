"""Domain errors raised by the accounts services."""

from django.utils.translation import gettext_lazy

from cashback.errors import DomainError


class ConsentVersionMissingError(DomainError):
    code = "consent_version_missing"
    default_message = gettext_lazy("A consent must be recorded with the version of the text the person agreed to.")


class CardLinkedToAnotherUserError(DomainError):
    code = "card_linked_to_another_user"
    http_status = 409
    default_message = gettext_lazy(
        "This card is already linked to another account. A card can belong to one account only."
    )


class CardNotFoundError(DomainError):
    code = "card_not_found"
    http_status = 404
    default_message = gettext_lazy("No such card in your wallet.")


class DataExportNotFoundError(DomainError):
    code = "data_export_not_found"
    http_status = 404
    default_message = gettext_lazy("No such export of your data.")


class DataExportExpiredError(DomainError):
    code = "data_export_expired"
    http_status = 410
    default_message = gettext_lazy(
        "This download link has expired and the file was deleted. Start a new export to get your data."
    )


class DataExportNotReadyError(DomainError):
    code = "data_export_not_ready"
    http_status = 409
    default_message = gettext_lazy("Your data is still being prepared. Try again in a moment.")


class ErasureBlockedError(DomainError):
    """Closing the account must wait; ``fields["blockers"]`` lists the codes of what blocks it."""

    code = "erasure_blocked"
    http_status = 409
    default_message = gettext_lazy("Your account cannot be closed yet.")


class ErasureNotAcknowledgedError(DomainError):
    """The person has not acknowledged what closing loses; ``fields["acknowledge"]`` lists the codes."""

    code = "erasure_not_acknowledged"
    http_status = 409
    default_message = gettext_lazy("Confirm that you understand what you lose by closing your account.")


class ErasureConfirmationError(DomainError):
    code = "erasure_not_confirmed"
    default_message = gettext_lazy("Confirm with your password and by typing the confirmation word.")


class AccountBlockedError(DomainError):
    """The person is blocked by staff (accounts.blocking): no payouts, donations or spending."""

    code = "account_blocked"
    http_status = 403
    default_message = gettext_lazy("Your account is blocked, so this is not possible now. Please contact support.")


class BlockReasonMissingError(DomainError):
    code = "block_reason_missing"
    default_message = gettext_lazy("Give a reason.")


class AlreadyBlockedError(DomainError):
    code = "already_blocked"
    http_status = 409
    default_message = gettext_lazy("This person is already blocked.")


class NotBlockedError(DomainError):
    code = "not_blocked"
    http_status = 409
    default_message = gettext_lazy("This person is not blocked.")


class InvitationInvalidError(DomainError):
    code = "invitation_invalid"
    http_status = 404
    default_message = gettext_lazy("This invitation link is not valid. Ask for a new one.")


class InvitationExpiredError(DomainError):
    code = "invitation_expired"
    http_status = 410
    default_message = gettext_lazy("This invitation has expired or was already used. Ask for a new one.")


class InvalidStaffRoleError(DomainError):
    code = "invalid_staff_role"
    default_message = gettext_lazy("Unknown staff role.")


class OwnAdministratorRoleError(DomainError):
    code = "own_administrator_role"
    http_status = 409
    default_message = gettext_lazy("You cannot take the administrator role from yourself; ask another administrator.")
