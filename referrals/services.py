"""Every write of the referral programme: versions of its terms, codes, referrals, qualification,
abuse checks, bonuses and the staff review. Rules, statuses and keys: docs/referrals.md.

Money: each bonus is one ledger transaction (``JournalKind.REFERRAL_BONUS``) crediting the consumer's
*available* account from the platform's referral-marketing account (``BONUS_FUNDING_OWNER_KEY``, kind
``platform_revenue``, allowed to go negative: its balance is what the programme has cost). Keys:
``referral:<id>:referrer``, ``referral:<id>:friend``, ``business-referral:<id>`` — a replay posts nothing.

Locks, always in this order: the referral's row (``Referral`` or ``BusinessReferral``), then the
referrer's ``ReferralCode`` row (the monthly cap is counted under it), then ledger accounts (the
wallet service). A referral's status decides everything, so concurrent facts about the same
referral (replayed events, a staff click racing the maturity task) pay at most once.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from referrals import selectors
from referrals.errors import (
    AlreadyReferredError,
    BusinessAlreadyPartnerError,
    BusinessAlreadySubmittedError,
    InvalidProgramError,
    OwnReferralCodeError,
    ProgramChangedError,
    ReasonRequiredError,
    ReferralAfterSignupError,
    ReferralNotFoundError,
    ReferralNotHeldError,
    UnknownReferralCodeError,
)
from referrals.models import (
    BusinessReferral,
    BusinessReferralStatus,
    DeviceSighting,
    Referral,
    ReferralCode,
    ReferralProgram,
    ReferralProgramAmount,
    ReferralStatus,
)
from accounts.visitor import network_of, normalize_code
from wallet.models import AccountKind, Currency, JournalKind
from wallet.services import account_get_or_create, transaction_post, transfer

BONUS_FUNDING_OWNER_KEY = "platform:referral-marketing"
UNDONE_PURCHASE_STATUSES = ("refunded", "partly_refunded", "reversed")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
CODE_LENGTH = 8
NOTIFICATION_KIND = "referral_bonus"
REFERRALS_URL = "/wallet/referrals/"

# Version 1 of the programme, created the first time the programme is needed (staff change it later).
DEFAULT_WINDOW_DAYS = 30
DEFAULT_MONTHLY_CAP = 10
DEFAULT_REVIEW_WINDOW_HOURS = 24
DEFAULT_AMOUNTS: dict[str, dict[str, int]] = {
    "NOK": {"referrer": 5000, "friend": 5000, "business": 50000, "min_purchase": 20000},
    "SEK": {"referrer": 5000, "friend": 5000, "business": 50000, "min_purchase": 20000},
    "DKK": {"referrer": 4000, "friend": 4000, "business": 40000, "min_purchase": 15000},
    "EUR": {"referrer": 500, "friend": 500, "business": 5000, "min_purchase": 2000},
}
LIMITS = {
    "qualification_window_days": (1, 365),
    "monthly_cap": (0, 1000),
    "review_window_hours": (0, 24 * 30),
}
MAX_BONUS_MINOR = 10_000_000  # 100 000.00 in any of our currencies: a typo guard, not a business rule


class ReviewSignal:
    """Why a referral waits for staff (stored in ``Referral.review_reasons``)."""

    SAME_NETWORK = "same_network"
    SAME_DEVICE = "same_device"
    REFERRER_NETWORK = "referrer_network"

    LABELS = {
        SAME_NETWORK: "Another referral by the same person signed up from this network shortly before or after",
        SAME_DEVICE: "Another referral signed up on this device shortly before or after",
        REFERRER_NETWORK: "The referrer used this network shortly before the friend signed up",
    }


# --- Programme versions --------------------------------------------------------------------------


def program_current() -> ReferralProgram:
    """The version in force (the newest), creating version 1 with the defaults the first time."""
    program = selectors.program_in_force()
    if program is not None:
        return program
    try:
        with transaction.atomic():
            program = ReferralProgram.objects.create(
                version=1,
                qualification_window_days=DEFAULT_WINDOW_DAYS,
                monthly_cap=DEFAULT_MONTHLY_CAP,
                review_window_hours=DEFAULT_REVIEW_WINDOW_HOURS,
                note="Defaults",
            )
            ReferralProgramAmount.objects.bulk_create(
                ReferralProgramAmount(
                    program=program,
                    currency=currency,
                    referrer_bonus_minor=values["referrer"],
                    friend_bonus_minor=values["friend"],
                    business_bonus_minor=values["business"],
                    min_purchase_minor=values["min_purchase"],
                )
                for currency, values in DEFAULT_AMOUNTS.items()
            )
    except IntegrityError:
        pass  # someone else created version 1 at the same moment: theirs is the same
    program = selectors.program_in_force()
    assert program is not None
    return program


@dataclass(frozen=True)
class CurrencyAmounts:
    """What staff set for one currency, in minor units."""

    referrer_bonus_minor: int
    friend_bonus_minor: int
    business_bonus_minor: int
    min_purchase_minor: int


def _program_problems(
    *,
    qualification_window_days: int,
    monthly_cap: int,
    review_window_hours: int,
    amounts: Mapping[str, CurrencyAmounts],
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    values = {
        "qualification_window_days": qualification_window_days,
        "monthly_cap": monthly_cap,
        "review_window_hours": review_window_hours,
    }
    for name, value in values.items():
        low, high = LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems[name] = [f"Enter a whole number from {low} to {high}."]
    for currency, amount in amounts.items():
        if currency not in Currency.values:
            problems.setdefault("amounts", []).append(f"Unknown currency {currency!r}.")
            continue
        for field in ("referrer_bonus_minor", "friend_bonus_minor", "business_bonus_minor", "min_purchase_minor"):
            value = getattr(amount, field)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BONUS_MINOR:
                problems.setdefault(f"{currency}_{field.removesuffix('_minor')}", []).append(
                    "Enter an amount from 0 to 100 000."
                )
    if not amounts:
        problems.setdefault("amounts", []).append("Give the amounts for at least one currency.")
    return problems


def program_version_create(
    *,
    actor: Any,
    based_on_version: int,
    qualification_window_days: int,
    monthly_cap: int,
    review_window_hours: int,
    amounts: Mapping[str, CurrencyAmounts],
    note: str = "",
) -> ReferralProgram:
    """Save new terms as the next version. They apply to referrals created from now on; existing
    referrals keep the version they were created under.

    ``based_on_version`` is the version the editor started from: if someone saved another version
    meanwhile, nothing is saved (``ProgramChangedError``) rather than silently undoing their change.
    A currency left out of ``amounts`` has no referral bonus in the new version.
    """
    problems = _program_problems(
        qualification_window_days=qualification_window_days,
        monthly_cap=monthly_cap,
        review_window_hours=review_window_hours,
        amounts=amounts,
    )
    if problems:
        raise InvalidProgramError(fields=problems)
    current = program_current()
    if current.version != based_on_version:
        raise ProgramChangedError()
    try:
        with transaction.atomic():
            program = ReferralProgram.objects.create(
                version=current.version + 1,
                qualification_window_days=qualification_window_days,
                monthly_cap=monthly_cap,
                review_window_hours=review_window_hours,
                note=note.strip()[:200],
                created_by=actor,
            )
            ReferralProgramAmount.objects.bulk_create(
                ReferralProgramAmount(program=program, currency=currency, **vars(amount))
                for currency, amount in sorted(amounts.items())
            )
    except IntegrityError as error:
        # Two staff saving at once: the unique version number let one of them win.
        raise ProgramChangedError() from error
    return program


# --- Codes and devices ---------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def referral_code_for(*, user: Any) -> ReferralCode:
    """The consumer's code, created the first time it is asked for (race-safe: one per user)."""
    existing = ReferralCode.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(user=user, code=_new_code())
        except IntegrityError:
            existing = ReferralCode.objects.filter(user=user).first()
            if existing is not None:
                return existing  # a concurrent request created it; otherwise the code collided: retry
    raise RuntimeError("Could not find a free referral code after five tries.")


def device_sighting_record(*, user: Any, device_id: str, ip: str | None, now: datetime | None = None) -> None:
    """Remember that ``user`` used this device and network (for the self-referral and review checks)."""
    network = network_of(ip)
    if not device_id and not network:
        return
    now = now or timezone.now()
    with transaction.atomic():
        sighting, created = DeviceSighting.objects.get_or_create(
            user=user, device_id=device_id, network=network, defaults={"last_seen_at": now}
        )
        if not created and sighting.last_seen_at < now:
            DeviceSighting.objects.filter(pk=sighting.pk, last_seen_at__lt=now).update(last_seen_at=now, updated_at=now)


# --- Friends: sign-up ----------------------------------------------------------------------------


def _referrer_code(code: str) -> ReferralCode:
    normalized = normalize_code(code)
    referrer_code = selectors.referral_code_lookup(code=normalized) if normalized else None
    if referrer_code is None:
        raise UnknownReferralCodeError(fields={"referral_code": [UnknownReferralCodeError.default_message]})
    return referrer_code


def referral_code_check(*, code: str, user: Any = None) -> ReferralCode:
    """The code's owner, or the error a person typing it should see (unknown code, their own code)."""
    referrer_code = _referrer_code(code)
    if user is not None and referrer_code.user_id == user.pk:
        raise OwnReferralCodeError(fields={"referral_code": [OwnReferralCodeError.default_message]})
    return referrer_code


def _review_signals(*, referrer_id: int, network: str, device_id: str, since: datetime) -> tuple[list[str], list[int]]:
    """Signals that this sign-up and others came from one network or device within the window, and
    the open referrals that share them (they are flagged too: both wait for staff)."""
    signals: list[str] = []
    related: set[int] = set()
    if network:
        same_network = selectors.recent_referral_ids(referrer_id=referrer_id, network=network, since=since)
        if same_network:
            signals.append(ReviewSignal.SAME_NETWORK)
            related.update(same_network)
        if selectors.user_seen_on_network(user_id=referrer_id, network=network, since=since):
            signals.append(ReviewSignal.REFERRER_NETWORK)
    if device_id:
        same_device = selectors.recent_referral_ids(device_id=device_id, since=since)
        if same_device:
            signals.append(ReviewSignal.SAME_DEVICE)
            related.update(same_device)
    return signals, sorted(related)


def referral_attach_at_signup(
    *, friend: Any, code: str, ip: str | None = None, device_id: str = "", now: datetime | None = None
) -> Referral:
    """Link a person who is signing up to the referrer whose code they came with.

    Called by the sign-up flow (web and app) in the transaction that creates the account. Raises
    ``UnknownReferralCodeError`` or ``OwnReferralCodeError`` (nothing is written); a friend signing up
    on a device the referrer uses is linked but ``rejected`` (same person); signals of a shared
    network or device within the programme's review window mark the referral for staff review.
    """
    now = now or timezone.now()
    referrer_code = referral_code_check(code=code, user=friend)
    program = program_current()
    network = network_of(ip)
    status, reason = ReferralStatus.PENDING, ""
    if device_id and selectors.user_seen_on_device(user_id=referrer_code.user_id, device_id=device_id):
        status, reason = ReferralStatus.REJECTED, "Signed up on a device the referrer uses (self-referral)."
    since = now - timedelta(hours=program.review_window_hours)
    signals, related = _review_signals(
        referrer_id=referrer_code.user_id, network=network, device_id=device_id, since=since
    )
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer_id=referrer_code.user_id,
                friend=friend,
                code=referrer_code.code,
                program=program,
                status=status,
                status_reason=reason,
                review_reasons=signals,
                signup_ip=ip,
                network=network,
                device_id=device_id,
            )
            for other in Referral.objects.select_for_update().filter(pk__in=related).order_by("pk"):
                if other.status in (ReferralStatus.PENDING, ReferralStatus.QUALIFYING):
                    merged = sorted({*other.review_reasons, *signals} - {ReviewSignal.REFERRER_NETWORK})
                    if merged != sorted(other.review_reasons):
                        other.review_reasons = merged
                        other.save(update_fields=["review_reasons", "updated_at"])
            device_sighting_record(user=friend, device_id=device_id, ip=ip, now=now)
    except IntegrityError as error:
        raise AlreadyReferredError() from error
    return referral


def referral_claim(*, user: Any, code: str) -> None:
    """An existing account asking to be linked to a referrer. Never allowed — a code only counts at
    sign-up — but the error says exactly what is wrong: an unknown code, the person's own code, an
    account already referred, or simply too late. Nothing is ever written."""
    referral_code_check(code=code, user=user)
    if selectors.referral_of_friend(friend=user) is not None:
        raise AlreadyReferredError()
    raise ReferralAfterSignupError()


# --- Friends: qualification and payment ----------------------------------------------------------


def _lock_referral_of_friend(friend_id: int) -> Referral | None:
    # of=("self",): lock the referral only, not the programme row it is joined with.
    return (
        Referral.objects.select_for_update(of=("self",)).select_related("program").filter(friend_id=friend_id).first()
    )


def _qualifying_amounts(referral: Referral, purchase: Any) -> ReferralProgramAmount | None:
    """The programme amounts if ``purchase`` qualifies this referral: the friend's, not undone, made
    within the qualification window after sign-up, in a currency of the programme, reaching the minimum."""
    if purchase is None or purchase.user_id != referral.friend_id:
        return None
    # Any refund or a reversal disqualifies the purchase (a partial refund too: see docs/referrals.md).
    if purchase.status in UNDONE_PURCHASE_STATUSES or getattr(purchase, "reversed", False):
        return None
    if getattr(purchase, "refunded_minor", 0):
        return None
    window_end = referral.created_at + timedelta(days=referral.program.qualification_window_days)
    if not referral.created_at - timedelta(minutes=5) <= purchase.occurred_at <= window_end:
        return None
    amounts = referral.program.amounts_for(purchase.currency)
    if amounts is None or purchase.amount_minor < amounts.min_purchase_minor:
        return None
    return amounts


def _start_qualifying(referral: Referral, purchase_id: int, now: datetime) -> bool:
    """Caller holds the referral's lock. Make ``purchase_id`` the qualifying purchase if it qualifies."""
    if referral.status not in (ReferralStatus.PENDING, ReferralStatus.EXPIRED):
        return False
    from campaigns.selectors import purchase_by_id

    purchase = purchase_by_id(purchase_id=purchase_id)
    if _qualifying_amounts(referral, purchase) is None:
        return False
    referral.status = ReferralStatus.QUALIFYING
    referral.status_reason = ""
    referral.qualifying_purchase_id = purchase.pk
    referral.currency = purchase.currency
    referral.qualified_at = now
    referral.save(
        update_fields=["status", "status_reason", "qualifying_purchase", "currency", "qualified_at", "updated_at"]
    )
    return True


def referral_purchase_rewarded(
    *, friend_id: int, purchase_id: int | None, now: datetime | None = None
) -> Referral | None:
    """A purchase of ``friend_id`` earned cashback (``reward_earned``): the first one that qualifies
    becomes the referral's qualifying purchase; the bonus waits for its cashback to mature."""
    if purchase_id is None or not selectors.has_open_referral(friend_id=friend_id):
        return None
    with transaction.atomic():
        referral = _lock_referral_of_friend(friend_id)
        if referral is not None:
            _start_qualifying(referral, purchase_id, now or timezone.now())
        return referral


def referral_purchase_matured(
    *, friend_id: int, purchase_id: int | None, now: datetime | None = None
) -> Referral | None:
    """The cashback of a purchase of ``friend_id`` became available (``reward_available``). If it is
    the qualifying purchase (or qualifies now), the bonuses are paid — or held, capped or rejected by
    the abuse rules. Safe to call any number of times, concurrently too: it pays once."""
    if purchase_id is None or not selectors.has_open_referral(friend_id=friend_id):
        return None
    now = now or timezone.now()
    with transaction.atomic():
        referral = _lock_referral_of_friend(friend_id)
        if referral is None:
            return None
        _start_qualifying(referral, purchase_id, now)
        if referral.status == ReferralStatus.QUALIFYING and referral.qualifying_purchase_id == purchase_id:
            _settle(referral, now=now, reviewed=False)
        return referral


def referral_purchase_undone(
    *, friend_id: int, purchase_id: int | None, now: datetime | None = None
) -> Referral | None:
    """``purchase_refunded`` or ``reward_reversed`` for a purchase of ``friend_id``. If it is the
    qualifying purchase and, looked at again, no longer qualifies (refunded — even partly — reversed,
    or now below the minimum) before its cashback matured, the referral is cancelled and pays
    nothing, ever. A reward merely adjusted (a clearing below the authorised amount that still
    reaches the minimum) changes nothing; neither does anything after the bonus was paid."""
    if purchase_id is None or not selectors.has_open_referral(friend_id=friend_id):
        return None
    from campaigns.selectors import purchase_by_id

    with transaction.atomic():
        referral = _lock_referral_of_friend(friend_id)
        if (
            referral is not None
            and referral.status == ReferralStatus.QUALIFYING
            and referral.qualifying_purchase_id == purchase_id
            and _qualifying_amounts(referral, purchase_by_id(purchase_id=purchase_id)) is None
        ):
            referral.status = ReferralStatus.CANCELLED
            referral.status_reason = "The qualifying purchase was refunded before its cashback became available."
            referral.save(update_fields=["status", "status_reason", "updated_at"])
        return referral


def _self_referral_reason(referral: Referral) -> str:
    """Why the friend looks like the referrer under another account, or ``""``.

    Payout and payment details need no check of their own: a Stripe payout account and a card
    token each belong to one consumer only (unique in the database), so they cannot be shared."""
    from accounts.selectors import card_fingerprints_of

    if card_fingerprints_of(user_id=referral.friend_id) & card_fingerprints_of(user_id=referral.referrer_id):
        return "The friend and the referrer use the same payment card (self-referral)."
    if selectors.shared_device_ids(user_id=referral.friend_id, other_user_id=referral.referrer_id):
        return "The friend and the referrer use the same device (self-referral)."
    return ""


def _cap_reached(*, referrer: Any, cap: int, now: datetime) -> bool:
    """Whether ``referrer`` has already been paid ``cap`` bonuses this calendar month. Locks the
    referrer's code row first, so two referrals of one referrer settling at once count each other."""
    code = referral_code_for(user=referrer)
    ReferralCode.objects.select_for_update().filter(pk=code.pk).first()
    return selectors.bonuses_paid_in_month(referrer_id=referrer.pk, at=now) >= cap


def _funding_account(currency: str) -> Any:
    return account_get_or_create(
        kind=AccountKind.PLATFORM_REVENUE, currency=currency, owner_key=BONUS_FUNDING_OWNER_KEY, allows_negative=True
    )


def _pay_bonus(*, key: str, user: Any, amount_minor: int, currency: str, memo: str, causes: dict[str, int]) -> None:
    if amount_minor <= 0:
        return
    transaction_post(
        idempotency_key=key,
        kind=JournalKind.REFERRAL_BONUS,
        entries=transfer(
            debit=_funding_account(currency),
            credit=account_get_or_create(kind=AccountKind.CONSUMER_AVAILABLE, currency=currency, user=user),
            amount=amount_minor,
        ),
        memo=memo,
        causes=causes,
    )
    _notify(user=user, key=key, amount_minor=amount_minor, currency=currency, memo=memo)


def _notify(*, user: Any, key: str, amount_minor: int, currency: str, memo: str) -> None:
    from notifications.services import notification_send
    from wallet.money import minor_to_decimal_string

    notification_send(
        user=user,
        kind=NOTIFICATION_KIND,
        title=f"You earned a {minor_to_decimal_string(amount_minor, currency)} {currency} referral bonus",
        body=f"{memo}. It is in your available balance now.",
        url=REFERRALS_URL,
        dedupe_key=key,
    )


def _set_status(referral: Referral, status: str, reason: str = "") -> None:
    referral.status = status
    referral.status_reason = reason
    referral.save(update_fields=["status", "status_reason", "updated_at"])


def _settle(referral: Referral, *, now: datetime, reviewed: bool) -> None:
    """Caller holds the referral's lock; its status is qualifying (or held, when staff approve).
    Applies the abuse rules in order — self-referral, review signals, monthly cap — then pays."""
    reason = _self_referral_reason(referral)
    if reason:
        _set_status(referral, ReferralStatus.REJECTED, reason)
        return
    if referral.review_reasons and not reviewed:
        labels = [ReviewSignal.LABELS.get(signal, signal) for signal in referral.review_reasons]
        _set_status(referral, ReferralStatus.HELD, "; ".join(labels) + ".")
        return
    amounts = referral.program.amounts_for(referral.currency)
    if amounts is None:  # cannot happen for a purchase that qualified; kept as a guard
        _set_status(referral, ReferralStatus.REJECTED, f"The programme pays no bonus in {referral.currency}.")
        return
    referrer = referral.referrer
    if _cap_reached(referrer=referrer, cap=referral.program.monthly_cap, now=now):
        _set_status(referral, ReferralStatus.CAPPED, "The referrer reached this month's limit of referral bonuses.")
        return
    causes = {"referral": referral.pk, "purchase": referral.qualifying_purchase_id}
    _pay_bonus(
        key=f"referral:{referral.pk}:referrer",
        user=referrer,
        amount_minor=amounts.referrer_bonus_minor,
        currency=referral.currency,
        memo="Referral bonus: a friend you invited made a first purchase",
        causes=causes,
    )
    _pay_bonus(
        key=f"referral:{referral.pk}:friend",
        user=referral.friend,
        amount_minor=amounts.friend_bonus_minor,
        currency=referral.currency,
        memo="Welcome bonus: you joined through a friend's invitation",
        causes=causes,
    )
    referral.status = ReferralStatus.PAID
    referral.status_reason = ""
    referral.referrer_bonus_minor = amounts.referrer_bonus_minor
    referral.friend_bonus_minor = amounts.friend_bonus_minor
    referral.paid_at = now
    referral.save(
        update_fields=[
            "status",
            "status_reason",
            "referrer_bonus_minor",
            "friend_bonus_minor",
            "paid_at",
            "updated_at",
        ]
    )


# --- Staff review ----------------------------------------------------------------------------------


def _lock_held(referral_id: int) -> Referral:
    referral = Referral.objects.select_for_update(of=("self",)).select_related("program").filter(pk=referral_id).first()
    if referral is None:
        raise ReferralNotFoundError()
    if referral.status != ReferralStatus.HELD:
        raise ReferralNotHeldError()
    return referral


def referral_review_approve(*, referral_id: int, actor: Any, now: datetime | None = None) -> Referral:
    """Staff found the held referral genuine: pay it (still subject to self-referral and the cap)."""
    now = now or timezone.now()
    with transaction.atomic():
        referral = _lock_held(referral_id)
        referral.reviewed_by = actor
        referral.reviewed_at = now
        referral.save(update_fields=["reviewed_by", "reviewed_at", "updated_at"])
        _settle(referral, now=now, reviewed=True)
    return referral


def referral_review_reject(*, referral_id: int, actor: Any, reason: str, now: datetime | None = None) -> Referral:
    """Staff found the held referral abusive: it pays nothing, and the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequiredError(fields={"reason": [ReasonRequiredError.default_message]})
    with transaction.atomic():
        referral = _lock_held(referral_id)
        referral.status = ReferralStatus.REJECTED
        referral.status_reason = reason[:300]
        referral.reviewed_by = actor
        referral.reviewed_at = now or timezone.now()
        referral.save(update_fields=["status", "status_reason", "reviewed_by", "reviewed_at", "updated_at"])
    return referral


def referrals_expire_due(*, now: datetime | None = None) -> int:
    """Referrals still waiting for a first purchase after their qualification window become expired.
    A purchase made inside the window whose cashback arrives later still qualifies an expired one."""
    now = now or timezone.now()
    expired = 0
    for program in ReferralProgram.objects.all():
        cutoff = now - timedelta(days=program.qualification_window_days)
        expired += Referral.objects.filter(
            program=program, status=ReferralStatus.PENDING, created_at__lt=cutoff
        ).update(status=ReferralStatus.EXPIRED, status_reason="No qualifying purchase in time.", updated_at=now)
    return expired


# --- Businesses --------------------------------------------------------------------------------------


def business_referral_submit(
    *, referrer: Any, business_name: str, organisation_number: str, country: str, contact_email: str = ""
) -> BusinessReferral:
    """A consumer tells us about a business. Paid when a merchant with this organisation number is
    approved and its first offer goes live. Refused for a business that is already a partner (or
    has applied) and for a second submission of the same business by the same person."""
    from merchants.selectors import merchant_by_organisation_number
    from merchants.validators import validate_country, validate_organisation_number

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


def _is_own_business(*, user_id: int, merchant: Any) -> bool:
    from merchants.selectors import membership_for

    if merchant.applied_by_id == user_id:
        return True
    user = _user(user_id)
    if user.email and merchant.contact_email and user.email.lower() == merchant.contact_email.lower():
        return True
    return membership_for(user=user, merchant_id=merchant.pk) is not None


def _user(user_id: int) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=user_id)


def business_referral_link_at_partner_signup(*, merchant_id: int, code: str) -> BusinessReferral | None:
    """The partner sign-up came through ``/partners/?ref=<code>``: link the new merchant to that
    consumer (their own submission of this business if they made one). Unknown codes are ignored —
    a partner's application never fails because of a referral link. Returns the business referral."""
    from merchants.selectors import merchant_by_id

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


def _lock_business_referral_for(merchant: Any) -> BusinessReferral | None:
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
    from merchants.selectors import merchant_by_id

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
    from merchants.selectors import merchant_by_id

    merchant = merchant_by_id(merchant_id=merchant_id)
    with transaction.atomic():
        referral = BusinessReferral.objects.select_for_update().filter(merchant_id=merchant_id).first()
        if referral is not None and referral.status == BusinessReferralStatus.APPROVED:
            _settle_business(referral, merchant=merchant, now=now or timezone.now())
        return referral


def _settle_business(referral: BusinessReferral, *, merchant: Any, now: datetime) -> None:
    """Caller holds the business referral's lock and it is approved: apply the cap, then pay."""
    program = ReferralProgram.objects.prefetch_related("amounts").get(pk=referral.program_id)
    amounts = program.amounts_for(merchant.currency)
    if amounts is None or amounts.business_bonus_minor <= 0:
        referral.status = BusinessReferralStatus.REJECTED
        referral.status_reason = f"The programme pays no business bonus in {merchant.currency}."
        referral.save(update_fields=["status", "status_reason", "updated_at"])
        return
    referrer = referral.referrer
    if _cap_reached(referrer=referrer, cap=program.monthly_cap, now=now):
        referral.status = BusinessReferralStatus.CAPPED
        referral.status_reason = "The referrer reached this month's limit of referral bonuses."
        referral.save(update_fields=["status", "status_reason", "updated_at"])
        return
    _pay_bonus(
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
