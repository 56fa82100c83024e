"""The campaigns' domain errors; each has a stable ``code`` for the API and the pages."""

from django.utils.translation import gettext_lazy

from cashback.errors import ConflictError, DomainError, NotFoundError


class InvalidOfferError(DomainError):
    code = "invalid_offer"
    default_message = gettext_lazy("The offer is not valid.")


class OfferNotFoundError(NotFoundError):
    code = "offer_not_found"
    default_message = gettext_lazy("No such offer.")


class OfferConflictError(ConflictError):
    """The offer changed since the form was loaded (optimistic lock); nothing was saved."""

    code = "offer_changed"
    default_message = (
        "Someone else changed this offer while you were editing it. Nothing was saved: "
        "reload the page to see their changes, then make yours again."
    )


class IllegalTransitionError(ConflictError):
    code = "illegal_transition"
    default_message = gettext_lazy("The offer cannot move to that status from its current one.")


class OfferNotEditableError(ConflictError):
    code = "offer_not_editable"
    default_message = gettext_lazy("This offer cannot be edited now. Pause it first.")


class InvalidChallengeError(DomainError):
    code = "invalid_challenge"
    default_message = gettext_lazy("The challenge is not valid.")


class InvalidPurchaseEventError(DomainError):
    code = "invalid_purchase_event"
    default_message = gettext_lazy("The purchase event is not valid.")


class RefundUnmatchedError(NotFoundError):
    """A refund (or reversal) without the original's id that matches no purchase: parked for review."""

    code = "refund_unmatched"
    default_message = gettext_lazy("No purchase matches this refund.")


class CharityRewardError(DomainError):
    """A charity offer names no charity the ledger knows: its reward cannot be booked (never dropped)."""

    code = "charity_reward_unbookable"
    default_message = gettext_lazy("The offer's charity is unknown, so its reward cannot be booked.")


class PurchaseNotFoundError(NotFoundError):
    code = "purchase_not_found"
    default_message = gettext_lazy("No such purchase.")


class OrderNotFoundError(NotFoundError):
    """A partner order (a purchase of source ``partner``) the calling merchant never reported."""

    code = "order_not_found"
    default_message = gettext_lazy("No order with this id has been reported by this merchant.")


class OrderAlreadyReportedError(ConflictError):
    code = "order_already_reported"
    default_message = gettext_lazy("An order with this id was already reported with other details.")


class RefundExceedsOrderError(ConflictError):
    code = "refund_exceeds_order"
    default_message = gettext_lazy("The refund is larger than what is left of the order.")


class MerchantNotListedError(NotFoundError):
    """Unknown, or not approved (pending, rejected, suspended): never revealed as existing."""

    code = "merchant_not_found"
    default_message = gettext_lazy("No such merchant.")
