"""Domain errors raised by the accounts services."""

from cashback.errors import DomainError


class ConsentVersionMissingError(DomainError):
    code = "consent_version_missing"
    default_message = "A consent must be recorded with the version of the text the person agreed to."


class CardLinkedToAnotherUserError(DomainError):
    code = "card_linked_to_another_user"
    http_status = 409
    default_message = "This card is already linked to another account. A card can belong to one account only."


class CardNotFoundError(DomainError):
    code = "card_not_found"
    http_status = 404
    default_message = "No such card in your wallet."
