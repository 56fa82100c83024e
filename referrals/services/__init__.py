"""Every write of the referral programme, one module per job; rules, statuses and keys: docs/referrals.md.

- ``programme``      versions of the terms (the editor's save, version 1 with the defaults)
- ``codes``          referral codes and the check of a typed code
- ``friends``        a friend linked at sign-up; a later claim refused with the reason
- ``qualification``  the first qualifying purchase, payment at maturity, cancellation, expiry
- ``review``         staff approve or reject a held referral
- ``business``       business referrals: submission, partner link, approval, first live offer
- ``abuse``          devices and networks seen, review signals, self-referral, the monthly cap
- ``bonuses``        bonuses as ledger transactions and the consumer's notification

Money: each bonus is one ledger transaction (``JournalKind.REFERRAL_BONUS``) crediting the consumer's
*available* account from the platform's referral-marketing account (``BONUS_FUNDING_OWNER_KEY``, kind
``platform_revenue``, allowed to go negative: its balance is what the programme has cost). Keys:
``referral:<id>:referrer``, ``referral:<id>:friend``, ``business-referral:<id>`` — a replay posts nothing.

Locks, always in this order: the referral's row (``Referral`` or ``BusinessReferral``), then the
referrer's ``ReferralCode`` row (the monthly cap is counted under it), then ledger accounts (the
wallet service). A referral's status decides everything, so concurrent facts about the same
referral (replayed events, a staff click racing the maturity task) pay at most once.

Callers import from here (``from referrals import services``); the names below are the public ones.
"""

from referrals.services.abuse import ReviewSignal, device_sighting_record
from referrals.services.bonuses import BONUS_FUNDING_OWNER_KEY
from referrals.services.business import (
    business_referral_link_at_partner_signup,
    business_referral_merchant_approved,
    business_referral_offer_live,
    business_referral_submit,
)
from referrals.services.codes import CODE_ALPHABET, CODE_LENGTH, referral_code_check, referral_code_for
from referrals.services.friends import referral_attach_at_signup, referral_claim
from referrals.services.programme import (
    DEFAULT_AMOUNTS,
    DEFAULT_MONTHLY_CAP,
    DEFAULT_REVIEW_WINDOW_HOURS,
    DEFAULT_WINDOW_DAYS,
    LIMITS,
    MAX_BONUS_MINOR,
    CurrencyAmounts,
    program_current,
    program_version_create,
)
from referrals.services.qualification import (
    UNDONE_PURCHASE_STATUSES,
    referral_purchase_matured,
    referral_purchase_rewarded,
    referral_purchase_undone,
    referrals_expire_due,
)
from referrals.services.review import referral_review_approve, referral_review_reject

__all__ = [
    "BONUS_FUNDING_OWNER_KEY",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "DEFAULT_AMOUNTS",
    "DEFAULT_MONTHLY_CAP",
    "DEFAULT_REVIEW_WINDOW_HOURS",
    "DEFAULT_WINDOW_DAYS",
    "LIMITS",
    "MAX_BONUS_MINOR",
    "UNDONE_PURCHASE_STATUSES",
    "CurrencyAmounts",
    "ReviewSignal",
    "business_referral_link_at_partner_signup",
    "business_referral_merchant_approved",
    "business_referral_offer_live",
    "business_referral_submit",
    "device_sighting_record",
    "program_current",
    "program_version_create",
    "referral_attach_at_signup",
    "referral_claim",
    "referral_code_check",
    "referral_code_for",
    "referral_purchase_matured",
    "referral_purchase_rewarded",
    "referral_purchase_undone",
    "referral_review_approve",
    "referral_review_reject",
    "referrals_expire_due",
]
