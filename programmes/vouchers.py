"""E-vouchers: codes uploaded by marketing or generated, activated or voided by finance, issued to a
member (a catalogue redemption or a programme tier's reward) and claimed with a one-time SMS code.

Codes at rest: ``VoucherCode.sealed`` is the code encrypted under ``FIELD_ENCRYPTION_KEYS``
(``cashback.sealed_text``), ``digest`` a keyed hash under ``EXTERNAL_ID_KEY`` in the brand owner's
namespace (so duplicates are found without opening a code, and a guessed code cannot be tested against
the table without the secret), ``hint`` the last four characters for masked lists. A code is opened only
by ``claim_verify``, for its holder, after the right SMS code.

The claim (``VoucherClaim``, one row per voucher, locked while it changes): a 6-digit code valid
``CLAIM_CODE_TTL``, at most ``CLAIM_MAX_SENDS`` sends per ``CLAIM_SEND_WINDOW``, at most
``CLAIM_MAX_ATTEMPTS`` wrong codes, then locked for ``CLAIM_LOCK``. A wrong attempt is committed before
its error is raised, so it always counts.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import hmac
import io
import logging
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from cashback.formatting import format_time, person_locale
from cashback.keyed_ids import external_key
from cashback.providers.delivery import ProviderPermanentError, ProviderTemporaryError
from cashback.providers.sms import get_sms_client
from cashback.sealed_text import seal, unseal
from programmes.catalogue_errors import (
    ClaimCodeExpiredError,
    ClaimCodeWrongError,
    ClaimLockedError,
    ClaimResendLimitError,
    DuplicateVoucherFileError,
    InvalidRewardItemError,
    NoVoucherCodeLeftError,
    PhoneNotVerifiedError,
    SmsNotSentError,
    VoucherBatchNotPendingError,
    VoucherFileError,
    VoucherNotFoundError,
    VoucherNotVoidableError,
)
from programmes.catalogue_models import (
    BatchStatus,
    CodeSource,
    CodeStatus,
    RewardItem,
    VoucherBatch,
    VoucherClaim,
    VoucherCode,
)
from programmes.errors import RoleNotAllowedError
from programmes.models import FieldRole, FieldRoleKind

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{3,63}")
MAX_FILE_BYTES = 1024 * 1024
MAX_CODES_PER_FILE = 20_000
MAX_GENERATED_PER_BATCH = 5_000
# No 0/O or 1/I: codes are read aloud and typed at a till.
GENERATED_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 12

CLAIM_CODE_TTL = datetime.timedelta(minutes=5)
CLAIM_MAX_ATTEMPTS = 5
CLAIM_MAX_SENDS = 3
CLAIM_SEND_WINDOW = datetime.timedelta(hours=1)
CLAIM_LOCK = datetime.timedelta(minutes=30)


def _require(role: FieldRole, *allowed: str) -> None:
    if role.role not in allowed:
        raise RoleNotAllowedError()


def _require_item_of(role: FieldRole, item: RewardItem) -> None:
    if item.brand_owner_id != role.brand_owner_id:
        raise RoleNotAllowedError()


def code_digest(*, brand_owner_id: int, code: str) -> str:
    return external_key(namespace=f"voucher:{brand_owner_id}", value=code)


def _code_row(*, item: RewardItem, code: str, batch: VoucherBatch | None, status: str) -> VoucherCode:
    return VoucherCode(
        brand_owner_id=item.brand_owner_id,
        item=item,
        batch=batch,
        sealed=seal(code),
        digest=code_digest(brand_owner_id=item.brand_owner_id, code=code),
        hint=code[-4:],
        status=status,
    )


# --- Batches: upload, generate, activate, void ---------------------------------------------------


@dataclass(frozen=True)
class VoucherFileReading:
    codes: list[str]
    errors: list[tuple[int, str]]


def voucher_file_read(*, brand_owner_id: int, content: bytes) -> VoucherFileReading:
    """One code per line (a first line ``code`` is a header). Every line is checked: a malformed code, a
    code twice in the file, a code the brand owner already has. Blank lines are skipped."""
    if len(content) > MAX_FILE_BYTES:
        return VoucherFileReading([], [(0, gettext("The file is larger than 1 MB."))])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return VoucherFileReading([], [(0, gettext("The file is not UTF-8 text."))])
    codes: list[str] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row if cell.strip()]
        if not cells or (number == 1 and cells[0].lower() == "code"):
            continue
        if len(cells) > 1:
            errors.append((number, gettext("One code per line.")))
            continue
        code = cells[0]
        if not CODE_PATTERN.fullmatch(code):
            errors.append((number, gettext("A code is 4 to 64 letters, digits or hyphens.")))
            continue
        if code in seen:
            errors.append((number, gettext("Duplicate code: the same as line %(line)s.") % {"line": seen[code]}))
            continue
        seen[code] = number
        codes.append(code)
        if len(codes) > MAX_CODES_PER_FILE:
            return VoucherFileReading([], [(number, gettext("At most 20 000 codes in one file."))])
    if not codes and not errors:
        errors.append((0, gettext("The file holds no codes.")))
    digests = {code_digest(brand_owner_id=brand_owner_id, code=code): code for code in codes}
    existing = set(
        VoucherCode.objects.filter(brand_owner_id=brand_owner_id, digest__in=list(digests)).values_list(
            "digest", flat=True
        )
    )
    for digest in existing:
        code = digests[digest]
        errors.append((seen[code], gettext("Duplicate code: it was uploaded before.")))
    errors.sort()
    return VoucherFileReading(codes, errors)


@transaction.atomic
def voucher_batch_upload(*, role: FieldRole, item: RewardItem, filename: str, content: bytes) -> VoucherBatch:
    """Marketing's file of codes for one item: all of it is stored, waiting for finance, or none of it
    (``VoucherFileError`` lists each bad line)."""
    _require(role, FieldRoleKind.MARKETING_ADMIN)
    _require_item_of(role, item)
    digest = hashlib.sha256(content).hexdigest()
    if VoucherBatch.objects.filter(item=item, sha256=digest).exists():
        raise DuplicateVoucherFileError()
    reading = voucher_file_read(brand_owner_id=item.brand_owner_id, content=content)
    if reading.errors:
        raise VoucherFileError(rows=reading.errors)
    try:
        with transaction.atomic():
            batch = VoucherBatch.objects.create(
                item=item, filename=filename[:200], sha256=digest, code_count=len(reading.codes), uploaded_by=role.user
            )
            VoucherCode.objects.bulk_create(
                _code_row(item=item, code=code, batch=batch, status=CodeStatus.PENDING) for code in reading.codes
            )
    except IntegrityError as error:  # the same codes uploaded at the same moment by someone else
        message = gettext("Some codes were uploaded at the same moment; try again.")
        raise VoucherFileError(rows=[(0, message)]) from error
    return batch


def _generated_code() -> str:
    return "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(GENERATED_LENGTH))


@transaction.atomic
def voucher_batch_generate(*, role: FieldRole, item: RewardItem, count: int) -> VoucherBatch:
    """The platform makes ``count`` random codes for the item, waiting for finance like an upload."""
    _require(role, FieldRoleKind.MARKETING_ADMIN)
    _require_item_of(role, item)
    if not 1 <= count <= MAX_GENERATED_PER_BATCH:
        raise InvalidRewardItemError(
            gettext("Generate between 1 and %(max)s codes at a time.") % {"max": MAX_GENERATED_PER_BATCH}
        )
    codes = {_generated_code() for _ in range(count)}
    while len(codes) < count:  # 32^12 codes: a repeat is all but impossible, but never stored twice
        codes.add(_generated_code())
    batch = VoucherBatch.objects.create(
        item=item,
        filename=gettext("%(count)s generated codes") % {"count": count},
        sha256=secrets.token_hex(32),
        code_count=count,
        uploaded_by=role.user,
    )
    VoucherCode.objects.bulk_create(
        _code_row(item=item, code=code, batch=batch, status=CodeStatus.PENDING) for code in sorted(codes)
    )
    return batch


def _batch_lock(role: FieldRole, batch: VoucherBatch) -> VoucherBatch:
    locked = VoucherBatch.objects.select_for_update().select_related("item").get(pk=batch.pk)
    _require_item_of(role, locked.item)
    return locked


@transaction.atomic
def voucher_batch_activate(*, role: FieldRole, batch: VoucherBatch) -> VoucherBatch:
    """Finance makes a batch's codes available to be issued."""
    _require(role, FieldRoleKind.FINANCE_ADMIN)
    batch = _batch_lock(role, batch)
    if batch.status != BatchStatus.PENDING:
        raise VoucherBatchNotPendingError()
    batch.codes.filter(status=CodeStatus.PENDING).update(status=CodeStatus.ACTIVE, updated_at=timezone.now())
    batch.status = BatchStatus.ACTIVE
    batch.decided_by = role.user
    batch.decided_at = timezone.now()
    batch.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return batch


@transaction.atomic
def voucher_batch_void(*, role: FieldRole, batch: VoucherBatch) -> int:
    """Finance voids a batch: every code of it not issued to a member can never be issued. Returns how
    many codes were voided (codes already issued stay the members')."""
    _require(role, FieldRoleKind.FINANCE_ADMIN)
    batch = _batch_lock(role, batch)
    voided = batch.codes.filter(status__in=[CodeStatus.PENDING, CodeStatus.ACTIVE]).update(
        status=CodeStatus.VOIDED, updated_at=timezone.now()
    )
    batch.status = BatchStatus.VOIDED
    batch.decided_by = role.user
    batch.decided_at = timezone.now()
    batch.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return voided


@transaction.atomic
def voucher_code_void(*, role: FieldRole, code: VoucherCode) -> VoucherCode:
    _require(role, FieldRoleKind.FINANCE_ADMIN)
    locked = VoucherCode.objects.select_for_update().get(pk=code.pk)
    if locked.brand_owner_id != role.brand_owner_id:
        raise RoleNotAllowedError()
    if locked.status not in (CodeStatus.PENDING, CodeStatus.ACTIVE):
        raise VoucherNotVoidableError()
    locked.status = CodeStatus.VOIDED
    locked.save(update_fields=["status", "updated_at"])
    return locked


# --- Issuing ---------------------------------------------------------------------------------------


def voucher_issue(*, item: RewardItem, holder: User, source: str) -> VoucherCode:
    """Give the member a code of the item: the oldest active one (rows another transaction is issuing
    are skipped, so two redemptions never get the same code), or a new one if the item's codes are
    generated and none is waiting. Caller's transaction; ``NoVoucherCodeLeftError`` when none is left."""
    now = timezone.now()
    code = (
        VoucherCode.objects.select_for_update(skip_locked=True)
        .filter(item=item, status=CodeStatus.ACTIVE)
        .order_by("id")
        .first()
    )
    if code is None:
        if item.code_source != CodeSource.GENERATED:
            raise NoVoucherCodeLeftError()
        code = _code_row(item=item, code=_generated_code(), batch=None, status=CodeStatus.ISSUED)
        code.holder, code.issued_at, code.source = holder, now, source[:100]
        code.save()
        return code
    code.status = CodeStatus.ISSUED
    code.holder = holder
    code.issued_at = now
    code.source = source[:100]
    code.save(update_fields=["status", "holder", "issued_at", "source", "updated_at"])
    return code


# --- Claiming with an SMS code ------------------------------------------------------------------


def _claim_digest(claim_id: int, code: str) -> str:
    return external_key(namespace="voucher:claim", value=f"{claim_id}:{code}")


def _held_voucher(*, user: User, voucher_id: int) -> VoucherCode:
    voucher = (
        VoucherCode.objects.select_related("item")
        .filter(pk=voucher_id, holder=user, status__in=[CodeStatus.ISSUED, CodeStatus.CLAIMED])
        .first()
    )
    if voucher is None:
        raise VoucherNotFoundError()
    return voucher


def _claim_lock(voucher: VoucherCode) -> VoucherClaim:
    VoucherClaim.objects.get_or_create(voucher=voucher)
    return VoucherClaim.objects.select_for_update().get(voucher=voucher)


def _locked_error(until: datetime.datetime) -> ClaimLockedError:
    return ClaimLockedError(
        gettext("Too many wrong codes: for your safety this voucher is locked until %(time)s.")
        % {"time": format_time(until)}
    )


def claim_code_send(*, user: User, voucher_id: int, now: datetime.datetime | None = None) -> VoucherClaim:
    """Send a new one-time code to the holder's verified mobile number (it replaces any earlier one).
    The count of sends is committed before the SMS goes out; a provider failure says so."""
    now = now or timezone.now()
    if not user.phone or not user.phone_verified:
        raise PhoneNotVerifiedError()
    voucher = _held_voucher(user=user, voucher_id=voucher_id)
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        claim = _claim_lock(voucher)
        if claim.locked_until and claim.locked_until > now:
            raise _locked_error(claim.locked_until)
        if claim.window_started_at is None or claim.window_started_at + CLAIM_SEND_WINDOW <= now:
            claim.window_started_at, claim.sends = now, 0
        if claim.sends >= CLAIM_MAX_SENDS:
            raise ClaimResendLimitError(
                gettext("You have asked for a code %(count)s times. Try again after %(time)s.")
                % {"count": claim.sends, "time": format_time(claim.window_started_at + CLAIM_SEND_WINDOW)}
            )
        claim.sends += 1
        claim.code_digest = _claim_digest(claim.pk, code)
        claim.expires_at = now + CLAIM_CODE_TTL
        claim.save(update_fields=["sends", "window_started_at", "code_digest", "expires_at", "updated_at"])
    with person_locale(user):
        body = gettext("%(code)s is your code to open the voucher %(item)s. It expires in %(minutes)s minutes.") % {
            "code": code,
            "item": voucher.item.name,
            "minutes": int(CLAIM_CODE_TTL.total_seconds() // 60),
        }
    try:
        get_sms_client().send(to=user.phone, body=body)
    except (ProviderTemporaryError, ProviderPermanentError) as error:
        logger.warning("voucher claim SMS not sent: %s", error)
        raise SmsNotSentError() from error
    return claim


@dataclass(frozen=True)
class ClaimOutcome:
    code: str | None
    error: Exception | None


def claim_verify(*, user: User, voucher_id: int, code: str, now: datetime.datetime | None = None) -> str:
    """The voucher's code, for its holder who typed the right SMS code (which is then used up). A wrong
    code counts (committed before the error); the fifth wrong code locks the voucher for ``CLAIM_LOCK``."""
    now = now or timezone.now()
    voucher = _held_voucher(user=user, voucher_id=voucher_id)
    with transaction.atomic():
        claim = _claim_lock(voucher)
        outcome = _claim_check(claim, voucher, code.strip(), now)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.code is not None
    return outcome.code


def _claim_check(claim: VoucherClaim, voucher: VoucherCode, typed: str, now: datetime.datetime) -> ClaimOutcome:
    """Decide and save; never raises, so the attempt is committed (the caller raises afterwards)."""
    if claim.locked_until and claim.locked_until > now:
        return ClaimOutcome(None, _locked_error(claim.locked_until))
    if not claim.code_digest or claim.expires_at is None or claim.expires_at <= now:
        return ClaimOutcome(None, ClaimCodeExpiredError())
    if hmac.compare_digest(claim.code_digest, _claim_digest(claim.pk, typed)):
        claim.code_digest, claim.attempts, claim.expires_at = "", 0, None
        claim.save(update_fields=["code_digest", "attempts", "expires_at", "updated_at"])
        if voucher.status == CodeStatus.ISSUED:
            VoucherCode.objects.filter(pk=voucher.pk, status=CodeStatus.ISSUED).update(
                status=CodeStatus.CLAIMED, claimed_at=now, updated_at=now
            )
        return ClaimOutcome(unseal(voucher.sealed), None)
    claim.attempts += 1
    if claim.attempts >= CLAIM_MAX_ATTEMPTS:
        claim.locked_until = now + CLAIM_LOCK
        claim.attempts, claim.code_digest, claim.expires_at = 0, "", None
        claim.save(update_fields=["attempts", "locked_until", "code_digest", "expires_at", "updated_at"])
        return ClaimOutcome(None, _locked_error(claim.locked_until))
    claim.save(update_fields=["attempts", "updated_at"])
    left = CLAIM_MAX_ATTEMPTS - claim.attempts
    message = ngettext(
        "That code is not right. %(left)s try left before the voucher is locked.",
        "That code is not right. %(left)s tries left before the voucher is locked.",
        left,
    ) % {"left": left}
    return ClaimOutcome(None, ClaimCodeWrongError(message))
