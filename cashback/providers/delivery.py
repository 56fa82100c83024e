"""What a message provider's failure means for the caller (SMS and push).

A temporary failure (the provider is down, rate-limits us, times out) is worth retrying later; a
permanent one (a malformed number, a token the provider no longer knows) is not, and is recorded.
"""


class ProviderTemporaryError(Exception):
    """Try again later: the provider was unreachable, overloaded or answered 429/5xx."""


class ProviderPermanentError(Exception):
    """Retrying cannot help: the provider refused this message for good."""


class DeadTokenError(ProviderPermanentError):
    """The push token is no longer registered with the provider: the device should be forgotten."""
