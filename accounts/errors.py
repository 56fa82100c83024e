"""Domain errors raised by the accounts services."""

from cashback.errors import DomainError


class ConsentVersionMissingError(DomainError):
    code = "consent_version_missing"
    default_message = "A consent must be recorded with the version of the text the person agreed to."
