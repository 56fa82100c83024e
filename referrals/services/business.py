"""Business referrals: a consumer's submission, the partner link at a merchant's application, approval
of the merchant and payment of the business bonus when its first offer goes live."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.visitor import normalize_code
from merchants.selectors import membership_for, merchant_by_id, merchant_by_organisation_number
from merchants.validators import validate_country, validate_organisation_number
from referrals import selectors
from referrals.errors import BusinessAlreadyPartnerError, BusinessAlreadySubmittedError
from referrals.models import BusinessReferral, BusinessReferralStatus, ReferralProgram
from referrals.services.abuse import monthly_cap_reached
from referrals.services.bonuses import bonus_pay
from referrals.services.programme import program_current

if TYPE_CHECKING:
    from accounts.models import User
    from merchants.models import Merchant


def business_referral_submit(
    *, referrer: User, business_name: str, organisation_number: str, country: str, contact_email: str = ""
) -> BusinessReferral:
    """A consumer tells us about a business. Paid when a merchant with this organisation number is
    approved and its first offer goes live. Refused for a business that is already a partner (or
    has applied) and for a second submission of the same business by the same person."""
    country = validate_country(country)
    number = validate_organisation_number(organisation_number, country=country)
    if merchant_by_organisation_number(country=country, organisation_number=number) is not None:
        raise BusinessAlreadyPartnerError(fields={"organisation_number": [BusinessAlreadyPartnerError.default_message]})
    if BusinessReferral.objects.filter(referrer=referrer, country=country, organisation_number=number).exists():
        raise BusinessAlreadySubmittedError(
            fields={"organisation_number": [BusinessAlreadySubmittedError.default_message]}
        )
    try:
        with transaction.atomic():
            return BusinessReferral.objects.create(
                referrer=referrer,
                program=program_current(),
                source=BusinessReferral.Source.FORM,
                business_name=business_name.strip(),
                country=country,
                organisation_number=number,
                contact_email=contact_email.strip(),
            )
    except IntegrityError as error:
        raise BusinessAlreadySubmittedError() from error


def _is_own_business(*, user_id: int, merchant: Merchant) -> bool:
    if merchant.applied_by_id == user_id:
        return True
    user = _user(user_id)
    if user.email and merchant.contact_email and user.email.lower() == merchant.contact_email.lower():
        return True
    return membership_for(user=user, merchant_id=merchant.pk) is not None


def _user(user_id: int) -> Any:
    return get_user_model().objects.get(pk=user_id)


def business_referral_link_at_partner_signup(*, merchant_id: int, code: str) -> BusinessReferral | None:
    """The partner sign-up came through ``/partners/?ref=<code>``: link the new merchant to that
    consumer (their own submission of this business if they made one). Unknown codes are ignored —
    a partner's application never fails because of a referral link. Returns the business referral."""
    normalized = normalize_code(code)
    referrer_code = selectors.referral_code_lookup(code=normalized) if normalized else None
    merchant = merchant_by_id(merchant_id=merchant_id)
    if referrer_code is None or merchant is None:
        return None
    with transaction.atomic():
        existing = BusinessReferral.objects.select_for_update().filter(merchant=merchant).first()
        if existing is not None:
            return existing
        referral = (
            BusinessReferral.objects.select_for_update()
            .filter(
                referrer_id=referrer_code.user_id,
                country=merchant.country,
                organisation_number=merchant.organisation_number,
                merchant__isnull=True,
            )
            .first()
        )
        if referral is None:
            referral = BusinessReferral(
                referrer_id=referrer_code.user_id,
                program=program_current(),
                source=BusinessReferral.Source.LINK,
                business_name=merchant.display_name,
                country=merchant.country,
                organisation_number=merchant.organisation_number,
                contact_email=merchant.contact_email,
            )
        referral.merchant = merchant
        if _is_own_business(user_id=referrer_code.user_id, merchant=merchant):
            referral.status = BusinessReferralStatus.REJECTED
            referral.status_reason = "A business cannot be referred by someone who runs it (self-referral)."
        else:
            referral.status = BusinessReferralStatus.SIGNED_UP
        try:
            with transaction.atomic():
                referral.save()
        except IntegrityError:
            return BusinessReferral.objects.filter(merchant=merchant).first()
        return referral


def _lock_business_referral_for(merchant: Merchant) -> BusinessReferral | None:
    """The merchant's business referral, locked; or the earliest unlinked submission of its
    organisation number, locked and linked now."""
    referral = BusinessReferral.objects.select_for_update().filter(merchant=merchant).first()
    if referral is not None:
        return referral
    referral = (
        BusinessReferral.objects.select_for_update()
        .filter(
            country=merchant.country,
            organisation_number=merchant.organisation_number,
            merchant__isnull=True,
            status=BusinessReferralStatus.SUBMITTED,
        )
        .order_by("created_at", "id")
        .first()
    )
    if referral is not None:
        referral.merchant = merchant
        referral.save(update_fields=["merchant", "updated_at"])
    return referral


def business_referral_merchant_approved(*, merchant_id: int, now: datetime | None = None) -> BusinessReferral | None:
    """``merchant_approved``: the referral (linked at sign-up, or matched by organisation number now)
    waits for the merchant's first live offer — or is paid at once if one is already live."""
    merchant = merchant_by_id(merchant_id=merchant_id)
    if merchant is None:
        return None
    with transaction.atomic():
        referral = _lock_business_referral_for(merchant)
        if referral is None or referral.status not in (
            BusinessReferralStatus.SUBMITTED,
            BusinessReferralStatus.SIGNED_UP,
        ):
            return referral
        if _is_own_business(user_id=referral.referrer_id, merchant=merchant):
            referral.status = BusinessReferralStatus.REJECTED
            referral.status_reason = "A business cannot be referred by someone who runs it (self-referral)."
        else:
            referral.status = BusinessReferralStatus.APPROVED
        referral.save(update_fields=["status", "status_reason", "updated_at"])
        if referral.status == BusinessReferralStatus.APPROVED and selectors.merchant_has_live_offer(
            merchant_id=merchant.pk
        ):
            _settle_business(referral, merchant=merchant, now=now or timezone.now())
        return referral


def business_referral_offer_live(*, merchant_id: int, now: datetime | None = None) -> BusinessReferral | None:
    """``offer_live``: the merchant's first offer went live; an approved business referral is paid."""
    if not BusinessReferral.objects.filter(merchant_id=merchant_id, status=BusinessReferralStatus.APPROVED).exists():
        return None

    merchant = merchant_by_id(merchant_id=merchant_id)
    with transaction.atomic():
        referral = BusinessReferral.objects.select_for_update().filter(merchant_id=merchant_id).first()
        if referral is not None and referral.status == BusinessReferralStatus.APPROVED:
            if merchant is None:  # the referral's merchant is protected from deletion
                raise ValueError(f"Business referral {referral.pk} names merchant {merchant_id}, which does not exist.")
            _settle_business(referral, merchant=merchant, now=now or timezone.now())
        return referral


def _settle_business(referral: BusinessReferral, *, merchant: Merchant, now: datetime) -> None:
    """Caller holds the business referral's lock and it is approved: apply the cap, then pay."""
    program = ReferralProgram.objects.prefetch_related("amounts").get(pk=referral.program_id)
    amounts = program.amounts_for(merchant.currency)
    if amounts is None or amounts.business_bonus_minor <= 0:
        referral.status = BusinessReferralStatus.REJECTED
        referral.status_reason = f"The programme pays no business bonus in {merchant.currency}."
        referral.save(update_fields=["status", "status_reason", "updated_at"])
        return
    referrer = referral.referrer
    if referrer.blocked_at is not None:  # a blocked person earns nothing new
        referral.status = BusinessReferralStatus.REJECTED
        referral.status_reason = "The referrer's account was blocked when the bonus was due."
        referral.save(update_fields=["status", "status_reason", "updated_at"])
        return
    if monthly_cap_reached(referrer=referrer, cap=program.monthly_cap, now=now):
        referral.status = BusinessReferralStatus.CAPPED
        referral.status_reason = "The referrer reached this month's limit of referral bonuses."
        referral.save(update_fields=["status", "status_reason", "updated_at"])
        return
    bonus_pay(
        key=f"business-referral:{referral.pk}",
        user=referrer,
        amount_minor=amounts.business_bonus_minor,
        currency=merchant.currency,
        memo=f"Business referral bonus: {merchant.display_name} joined and launched its first offer",
        causes={"business_referral": referral.pk, "merchant": merchant.pk},
    )
    referral.status = BusinessReferralStatus.PAID
    referral.status_reason = ""
    referral.currency = merchant.currency
    referral.bonus_minor = amounts.business_bonus_minor
    referral.paid_at = now
    referral.save(update_fields=["status", "status_reason", "currency", "bonus_minor", "paid_at", "updated_at"])
