"""The programme's terms: numbered versions (rows are never edited), version 1 with the defaults the
first time the programme is needed, and the staff editor's save of the next version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from referrals import selectors
from referrals.errors import InvalidProgramError, ProgramChangedError
from referrals.models import ReferralProgram, ReferralProgramAmount
from wallet.models import Currency

if TYPE_CHECKING:
    from accounts.models import User

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
    actor: User,
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
