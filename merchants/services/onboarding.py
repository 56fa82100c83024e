"""Sign-up and review: a business applies, staff approve, reject, suspend or reinstate it, and its team
edits its settings. Review decisions e-mail the merchant through notifications, by id, after commit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from cashback import events
from merchants.errors import (
    DuplicateOrganisationNumberError,
    InvalidStatusTransitionError,
    ReasonRequiredError,
)
from merchants.models import AuditEvent, Membership, Merchant
from merchants.services.audit import AuditAction, audit_record
from merchants.services.locks import merchant_lock
from merchants.slugs import merchant_slug_from_name
from merchants.validators import (
    validate_category_code,
    validate_country,
    validate_currency,
    validate_organisation_number,
)
from merchants.vat_numbers import validate_vat_number
from notifications.services import email_queue
from wallet.models import AccountKind
from wallet.services import account_get_or_create

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from accounts.models import User

# --- Sign-up and review ----------------------------------------------------------------------


def merchant_apply(
    *,
    applicant: Any,
    legal_name: str,
    display_name: str,
    organisation_number: str,
    country: str,
    category_code: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    currency: str = "",
    referral_code: str = "",
    billing_email: str = "",
    vat_number: str = "",
) -> Merchant:
    """A business applies to become a partner; the applicant becomes its owner. Status: pending review.

    ``currency`` defaults from the country. ``referral_code`` is the code of the ``/partners/?ref=``
    link the applicant came through ("" for none); it goes out with the ``merchant_applied`` fact,
    announced in the application's transaction (the referral programme links it, or ignores an
    unknown code). Raises a domain error for a bad or already registered organisation number, an
    unknown country or a currency not offered in that country.
    """
    country = validate_country(country)
    number = validate_organisation_number(organisation_number, country=country)
    currency = validate_currency(currency, country=country)
    category_code = validate_category_code(category_code)
    vat_number = validate_vat_number(vat_number, country=country, organisation_number=number)
    if Merchant.objects.filter(country=country, organisation_number=number).exists():
        raise _duplicate_org_number()
    try:
        with transaction.atomic():
            merchant = Merchant.objects.create(
                legal_name=legal_name.strip(),
                display_name=display_name.strip(),
                slug=merchant_slug_from_name(display_name.strip()),
                organisation_number=number,
                country=country,
                currency=currency,
                category_code=category_code,
                contact_name=contact_name.strip(),
                contact_email=contact_email.strip(),
                contact_phone=contact_phone.strip(),
                billing_email=(billing_email or contact_email).strip(),
                vat_number=vat_number,
                applied_by=applicant,
                language=_applicant_language(applicant),
            )
            Membership.objects.create(merchant=merchant, user=applicant, role=Membership.Role.OWNER)
            audit_record(
                merchant=merchant,
                actor=applicant,
                action=AuditAction.MERCHANT_APPLIED,
                details={"organisation_number": number, "country": country},
            )
            events.announce("merchant_applied", merchant_id=merchant.pk, referral_code=referral_code)
    except IntegrityError as error:
        # Two applications for the same number at once: the unique constraint decided.
        raise _duplicate_org_number() from error
    return merchant


def _applicant_language(applicant: User) -> str:
    """The merchant's e-mail language at application: the applicant's profile language, else the
    language the application was made in (a language the platform offers), else blank (the default)."""
    offered = dict(settings.LANGUAGES)
    for language in (getattr(applicant, "language", ""), translation.get_language() or ""):
        if language in offered:
            return language
        if language.split("-")[0] in offered:
            return language.split("-")[0]
    return ""


def _duplicate_org_number() -> DuplicateOrganisationNumberError:
    message = DuplicateOrganisationNumberError.default_message
    return DuplicateOrganisationNumberError(message, fields={"organisation_number": [message]})


# One whole sentence per action, so that a translation needs no English verb spliced in.
_CANNOT = {
    "approve": gettext_lazy("Cannot approve a merchant that is %(status)s."),
    "reject": gettext_lazy("Cannot reject a merchant that is %(status)s."),
    "suspend": gettext_lazy("Cannot suspend a merchant that is %(status)s."),
    "reinstate": gettext_lazy("Cannot reinstate a merchant that is %(status)s."),
}


def _require_status(merchant: Merchant, *allowed: str, doing: str) -> None:
    if merchant.status not in allowed:
        raise InvalidStatusTransitionError(_CANNOT[doing] % {"status": merchant.get_status_display().lower()})


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequiredError(fields={"reason": [ReasonRequiredError.default_message]})
    return reason


def _refresh_into(target: Merchant, source: Merchant) -> Merchant:
    for field in ("status", "status_reason", "reviewed_at", "approved_at", "suspended_at", "updated_at"):
        setattr(target, field, getattr(source, field))
    return target


def _notify_merchant(merchant: Merchant, *, decision: AuditEvent, template: str, subject: StrOrPromise) -> None:
    """E-mail the merchant's contact about a review decision, through notifications after commit.

    Written in the merchant's language (``Merchant.language``), not the staff member's: ``subject``
    is a lazy message with ``%(name)s`` for the merchant's name. Keyed by the decision's audit event:
    sent once, retried if the mail server fails, and the decision itself never depends on it.
    """
    context = {
        "merchant": merchant,
        "portal_url": settings.SITE_URL.rstrip("/")
        + reverse("merchants:dashboard", kwargs={"merchant_id": merchant.pk}),
    }
    with translation.override(merchant.email_language):
        written_subject = str(subject) % {"name": merchant.display_name}
        body = render_to_string(f"merchants/email/{template}.txt", context)
    email_queue(key=f"merchant-review:{decision.pk}", to=merchant.contact_email, subject=written_subject, body=body)


def merchant_approve(*, merchant: Merchant, actor: User | None) -> Merchant:
    """Staff approve a pending application and the merchant's ledger accounts (funding and
    receivable, in its currency) are opened. Approving twice is an error and opens nothing new."""
    with transaction.atomic():
        locked = merchant_lock(merchant)
        _require_status(locked, Merchant.Status.PENDING_REVIEW, doing="approve")
        now = timezone.now()
        locked.status = Merchant.Status.APPROVED
        locked.status_reason = ""
        locked.reviewed_at = locked.approved_at = now
        locked.save(update_fields=["status", "status_reason", "reviewed_at", "approved_at", "updated_at"])
        accounts = [
            account_get_or_create(kind=kind, currency=locked.currency, owner_key=locked.ledger_owner_key)
            for kind in (AccountKind.MERCHANT_FUNDING, AccountKind.MERCHANT_RECEIVABLE)
        ]
        decision = audit_record(
            merchant=locked,
            actor=actor,
            action=AuditAction.MERCHANT_APPROVED,
            details={"ledger_accounts": [account.pk for account in accounts], "currency": locked.currency},
        )
        _notify_merchant(
            locked,
            decision=decision,
            template="approved",
            subject=gettext_lazy("%(name)s is approved on Cashback"),
        )
        events.announce("merchant_approved", merchant_id=locked.pk)
    return _refresh_into(merchant, locked)


def merchant_reject(*, merchant: Merchant, actor: User, reason: str) -> Merchant:
    """Staff reject a pending application; the reason is shown to the applicant."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = merchant_lock(merchant)
        _require_status(locked, Merchant.Status.PENDING_REVIEW, doing="reject")
        locked.status = Merchant.Status.REJECTED
        locked.status_reason = reason
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "reviewed_at", "updated_at"])
        decision = audit_record(
            merchant=locked, actor=actor, action=AuditAction.MERCHANT_REJECTED, details={"reason": reason}
        )
        _notify_merchant(
            locked,
            decision=decision,
            template="rejected",
            subject=gettext_lazy("Your Cashback application for %(name)s"),
        )
    return _refresh_into(merchant, locked)


def merchant_suspend(*, merchant: Merchant, actor: User, reason: str) -> Merchant:
    """Staff suspend an approved merchant: from now on its purchases earn no new rewards."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = merchant_lock(merchant)
        _require_status(locked, Merchant.Status.APPROVED, doing="suspend")
        locked.status = Merchant.Status.SUSPENDED
        locked.status_reason = reason
        locked.suspended_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "suspended_at", "updated_at"])
        decision = audit_record(
            merchant=locked, actor=actor, action=AuditAction.MERCHANT_SUSPENDED, details={"reason": reason}
        )
        _notify_merchant(
            locked,
            decision=decision,
            template="suspended",
            subject=gettext_lazy("%(name)s is suspended on Cashback"),
        )
    return _refresh_into(merchant, locked)


def merchant_reinstate(*, merchant: Merchant, actor: User, note: str = "") -> Merchant:
    """Staff lift a suspension: the merchant is approved again."""
    with transaction.atomic():
        locked = merchant_lock(merchant)
        _require_status(locked, Merchant.Status.SUSPENDED, doing="reinstate")
        previous_reason = locked.status_reason
        locked.status = Merchant.Status.APPROVED
        locked.status_reason = ""
        locked.suspended_at = None
        locked.save(update_fields=["status", "status_reason", "suspended_at", "updated_at"])
        decision = audit_record(
            merchant=locked,
            actor=actor,
            action=AuditAction.MERCHANT_REINSTATED,
            details={"note": note.strip(), "suspension_reason": previous_reason},
        )
        _notify_merchant(
            locked,
            decision=decision,
            template="approved",
            subject=gettext_lazy("%(name)s is active again on Cashback"),
        )
    return _refresh_into(merchant, locked)


SETTINGS_FIELDS = ("display_name", "contact_name", "contact_email", "contact_phone", "language")


def merchant_update_settings(
    *,
    merchant: Merchant,
    actor: User,
    display_name: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    language: str | None = None,
) -> Merchant:
    """The merchant's team changes its public name, contact details and the language of its e-mails
    (owners and managers; ``language=None`` leaves it as it is, the door checks it is offered)."""
    new = {
        "display_name": display_name.strip(),
        "contact_name": contact_name.strip(),
        "contact_email": contact_email.strip(),
        "contact_phone": contact_phone.strip(),
    }
    if language is not None:
        new["language"] = language
    with transaction.atomic():
        locked = merchant_lock(merchant)
        changes = {
            field: {"from": getattr(locked, field), "to": value}
            for field, value in new.items()
            if getattr(locked, field) != value
        }
        if not changes:
            return merchant
        for field, value in new.items():
            setattr(locked, field, value)
            setattr(merchant, field, value)
        locked.save(update_fields=[*new, "updated_at"])
        audit_record(
            merchant=locked, actor=actor, action=AuditAction.MERCHANT_SETTINGS_CHANGED, details={"changes": changes}
        )
    return merchant
