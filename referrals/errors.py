"""The referrals' domain errors; each has a stable ``code`` for the API and the pages."""

from django.utils.translation import gettext_lazy

from cashback.errors import ConflictError, DomainError, NotFoundError


class UnknownReferralCodeError(NotFoundError):
    code = "unknown_referral_code"
    default_message = gettext_lazy("There is no referral code like that. Check it with the friend who sent it.")


class OwnReferralCodeError(DomainError):
    code = "own_referral_code"
    default_message = gettext_lazy("That is your own referral code: share it with friends instead.")


class ReferralAfterSignupError(ConflictError):
    code = "referral_after_signup"
    default_message = gettext_lazy(
        "Referral codes only count when you sign up; a referrer cannot be added to an existing account."
    )


class AlreadyReferredError(ConflictError):
    code = "already_referred"
    default_message = gettext_lazy("This account was already referred by someone.")


class ReferralNotFoundError(NotFoundError):
    code = "referral_not_found"
    default_message = gettext_lazy("No such referral.")


class ReferralNotHeldError(ConflictError):
    code = "referral_not_held"
    default_message = gettext_lazy("Only a referral held for review can be approved or rejected.")


class ReasonRequiredError(DomainError):
    code = "reason_required"
    default_message = gettext_lazy("Say why, so the consumer and other staff can understand the decision.")


class InvalidProgramError(DomainError):
    code = "invalid_referral_program"
    default_message = gettext_lazy("The programme settings are not valid.")


class ProgramChangedError(ConflictError):
    code = "referral_program_changed"
    default_message = gettext_lazy(
        "Someone saved a new version of the programme while you were editing. Nothing was saved: "
        "reload the page to see it, then make your change again."
    )


class BusinessAlreadyPartnerError(ConflictError):
    code = "business_already_partner"
    default_message = gettext_lazy("That business is already a partner (or has applied), so it cannot be referred.")


class BusinessAlreadySubmittedError(ConflictError):
    code = "business_already_submitted"
    default_message = gettext_lazy("You have already referred this business.")
