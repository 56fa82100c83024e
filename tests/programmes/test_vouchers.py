"""E-voucher codes (programmes.vouchers): uploads checked whole, finance's activation and voiding, codes
sealed at rest, and the claim with a one-time SMS code — its expiry, attempts, resends and lock."""

import datetime
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from accounts.privacy_registry import sections
from cashback.errors import PermissionDeniedError
from cashback.providers.sms import FakeSmsClient
from cashback.sealed_text import unseal
from programmes import catalogue, vouchers
from programmes.catalogue_errors import (
    ClaimCodeExpiredError,
    ClaimCodeWrongError,
    ClaimLockedError,
    ClaimResendLimitError,
    DuplicateVoucherFileError,
    InvalidRewardItemError,
    PhoneNotVerifiedError,
    SmsNotSentError,
    VoucherBatchNotPendingError,
    VoucherFileError,
    VoucherNotFoundError,
    VoucherNotVoidableError,
)
from programmes.catalogue_models import VoucherBatch, VoucherCode
from tests.programmes.catalogue_factories import active_batch, claim_code_from, item, member, shop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_outbox():
    FakeSmsClient.clear()
    yield FakeSmsClient.outbox
    FakeSmsClient.clear()


def _file(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_an_upload_is_stored_sealed_and_waits_for_finance():
    world = shop()
    reward = item(world, code_source="uploaded")

    batch = vouchers.voucher_batch_upload(
        role=world.marketing,
        item=reward,
        filename="kopi.csv",
        content=_file("code", "KOPI-AAAA-0001", "KOPI-AAAA-0002"),
    )

    codes = list(VoucherCode.objects.filter(batch=batch))
    assert batch.status == VoucherBatch.Status.PENDING and len(codes) == 2
    assert {code.status for code in codes} == {VoucherCode.Status.PENDING}
    assert sorted(unseal(code.sealed) for code in codes) == ["KOPI-AAAA-0001", "KOPI-AAAA-0002"]
    assert [code.masked for code in codes] == ["••••0001", "••••0002"]


def test_a_database_reader_finds_no_code_in_any_column():
    world = shop()
    reward = item(world, code_source="uploaded")
    vouchers.voucher_batch_upload(role=world.marketing, item=reward, filename="k.csv", content=_file("SECRETCODE77"))

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM programmes_vouchercode")
        rows = cursor.fetchall()

    assert rows and not any("SECRETCODE" in str(value) for row in rows for value in row)


def test_duplicate_codes_in_a_file_are_reported_by_line_and_nothing_is_stored():
    world = shop()
    reward = item(world, code_source="uploaded")

    with pytest.raises(VoucherFileError) as caught:
        vouchers.voucher_batch_upload(
            role=world.marketing, item=reward, filename="d.csv", content=_file("code", "AAAA1", "BBBB2", "AAAA1", "x")
        )

    lines = dict(caught.value.rows)
    assert "line 2" in lines[4] and 5 in lines
    assert not VoucherBatch.objects.exists() and not VoucherCode.objects.exists()


def test_a_code_uploaded_before_is_a_duplicate_too():
    world = shop()
    reward = item(world, code_source="uploaded")
    vouchers.voucher_batch_upload(role=world.marketing, item=reward, filename="a.csv", content=_file("AAAA1"))

    with pytest.raises(VoucherFileError) as caught:
        vouchers.voucher_batch_upload(
            role=world.marketing, item=reward, filename="b.csv", content=_file("ZZZZ9", "AAAA1")
        )

    assert caught.value.rows == [(2, "Duplicate code: it was uploaded before.")]
    assert VoucherCode.objects.count() == 1


def test_the_same_file_twice_is_refused():
    world = shop()
    reward = item(world, code_source="uploaded")
    vouchers.voucher_batch_upload(role=world.marketing, item=reward, filename="a.csv", content=_file("AAAA1"))

    with pytest.raises(DuplicateVoucherFileError):
        vouchers.voucher_batch_upload(role=world.marketing, item=reward, filename="a.csv", content=_file("AAAA1"))


@pytest.mark.parametrize("content", [b"", b"code\n", b"\xff\xfe", b"AB\n", b"one,two\n", b"with space\n"])
def test_a_malformed_file_is_refused_whole(content):
    world = shop()
    reward = item(world, code_source="uploaded")

    with pytest.raises(VoucherFileError):
        vouchers.voucher_batch_upload(role=world.marketing, item=reward, filename="m.csv", content=content)

    assert not VoucherCode.objects.exists()


def test_generated_codes_are_random_unique_and_wait_for_finance():
    world = shop()
    reward = item(world, code_source="uploaded")

    batch = vouchers.voucher_batch_generate(role=world.marketing, item=reward, count=50)

    codes = {unseal(code.sealed) for code in batch.codes.all()}
    assert len(codes) == 50 and all(len(code) == vouchers.GENERATED_LENGTH for code in codes)
    with pytest.raises(InvalidRewardItemError):
        vouchers.voucher_batch_generate(role=world.marketing, item=reward, count=0)


def test_only_marketing_uploads_and_only_finance_activates_or_voids():
    world = shop()
    reward = item(world, code_source="uploaded")
    with pytest.raises(PermissionDeniedError):
        vouchers.voucher_batch_upload(role=world.finance, item=reward, filename="a.csv", content=_file("AAAA1"))
    batch = vouchers.voucher_batch_upload(role=world.marketing, item=reward, filename="a.csv", content=_file("AAAA1"))
    with pytest.raises(PermissionDeniedError):
        vouchers.voucher_batch_activate(role=world.marketing, batch=batch)
    with pytest.raises(PermissionDeniedError):
        vouchers.voucher_batch_void(role=world.marketing, batch=batch)

    vouchers.voucher_batch_activate(role=world.finance, batch=batch)

    assert VoucherCode.objects.get().status == VoucherCode.Status.ACTIVE
    with pytest.raises(VoucherBatchNotPendingError):
        vouchers.voucher_batch_activate(role=world.finance, batch=batch)


def test_voiding_keeps_issued_codes_with_their_members():
    world = shop()
    reward = item(world, code_source="uploaded", price=10)
    batch = active_batch(world, reward, ["AAAA1", "BBBB2", "CCCC3"])
    person = member(world, points=10)
    issued = catalogue.catalogue_redeem(user=person, item=reward, request_key="k").voucher

    assert vouchers.voucher_batch_void(role=world.finance, batch=batch) == 2
    assert VoucherCode.objects.get(pk=issued.pk).status == VoucherCode.Status.ISSUED
    with pytest.raises(VoucherNotVoidableError):
        vouchers.voucher_code_void(role=world.finance, code=issued)


def _issued(world, person):
    reward = item(world, price=10, name="Kopi large")
    return catalogue.catalogue_redeem(user=person, item=reward, request_key=uuid.uuid4().hex).voucher


def test_claiming_with_the_sms_code_opens_the_voucher_once(sms_outbox):
    world = shop()
    person = member(world, points=10)
    voucher = _issued(world, person)

    vouchers.claim_code_send(user=person, voucher_id=voucher.pk)
    message = sms_outbox[-1]
    code = claim_code_from(message.body)
    opened = vouchers.claim_verify(user=person, voucher_id=voucher.pk, code=code)

    assert message.to == person.phone and "Kopi large" in message.body
    assert opened == unseal(voucher.sealed) and opened not in message.body
    voucher.refresh_from_db()
    assert voucher.status == VoucherCode.Status.CLAIMED and voucher.claimed_at
    with pytest.raises(ClaimCodeExpiredError):  # one-time
        vouchers.claim_verify(user=person, voucher_id=voucher.pk, code=code)


def test_a_wrong_code_counts_and_the_fifth_locks_the_voucher(sms_outbox):
    world = shop()
    person = member(world, points=10)
    voucher = _issued(world, person)
    vouchers.claim_code_send(user=person, voucher_id=voucher.pk)
    right = claim_code_from(sms_outbox[-1].body)
    wrong = "000000" if right != "000000" else "111111"

    for left in (4, 3, 2, 1):
        with pytest.raises(ClaimCodeWrongError) as caught:
            vouchers.claim_verify(user=person, voucher_id=voucher.pk, code=wrong)
        assert f"{left} tr" in caught.value.message
    with pytest.raises(ClaimLockedError) as locked:
        vouchers.claim_verify(user=person, voucher_id=voucher.pk, code=wrong)

    assert "locked until" in locked.value.message
    with pytest.raises(ClaimLockedError):  # even the right code, while locked
        vouchers.claim_verify(user=person, voucher_id=voucher.pk, code=right)
    with pytest.raises(ClaimLockedError):
        vouchers.claim_code_send(user=person, voucher_id=voucher.pk)
    later = timezone.now() + vouchers.CLAIM_LOCK + datetime.timedelta(seconds=1)
    vouchers.claim_code_send(user=person, voucher_id=voucher.pk, now=later)
    code = claim_code_from(sms_outbox[-1].body)
    assert vouchers.claim_verify(user=person, voucher_id=voucher.pk, code=code, now=later)


def test_resends_are_limited_per_hour(sms_outbox):
    world = shop()
    person = member(world, points=10)
    voucher = _issued(world, person)
    for _ in range(vouchers.CLAIM_MAX_SENDS):
        vouchers.claim_code_send(user=person, voucher_id=voucher.pk)

    with pytest.raises(ClaimResendLimitError):
        vouchers.claim_code_send(user=person, voucher_id=voucher.pk)

    assert len(sms_outbox) == vouchers.CLAIM_MAX_SENDS
    vouchers.claim_code_send(user=person, voucher_id=voucher.pk, now=timezone.now() + datetime.timedelta(hours=1))
    assert len(sms_outbox) == vouchers.CLAIM_MAX_SENDS + 1


def test_an_expired_code_is_refused(sms_outbox):
    world = shop()
    person = member(world, points=10)
    voucher = _issued(world, person)
    vouchers.claim_code_send(user=person, voucher_id=voucher.pk)
    code = claim_code_from(sms_outbox[-1].body)

    with pytest.raises(ClaimCodeExpiredError):
        vouchers.claim_verify(
            user=person, voucher_id=voucher.pk, code=code, now=timezone.now() + vouchers.CLAIM_CODE_TTL
        )


def test_no_code_without_a_verified_phone_and_none_for_someone_elses_voucher(sms_outbox):
    world = shop()
    person = member(world, points=10)
    voucher = _issued(world, person)
    unverified = member(world, phone_verified=False)
    stranger = member(world)

    with pytest.raises(PhoneNotVerifiedError):
        vouchers.claim_code_send(user=unverified, voucher_id=voucher.pk)
    with pytest.raises(VoucherNotFoundError):
        vouchers.claim_code_send(user=stranger, voucher_id=voucher.pk)
    with pytest.raises(VoucherNotFoundError):
        vouchers.claim_verify(user=stranger, voucher_id=voucher.pk, code="123456")
    assert sms_outbox == []


def test_a_provider_outage_says_so(sms_outbox):
    world = shop()
    person = member(world, points=10)
    voucher = _issued(world, person)
    FakeSmsClient.down = True

    with pytest.raises(SmsNotSentError):
        vouchers.claim_code_send(user=person, voucher_id=voucher.pk)


def test_the_persons_data_lists_their_vouchers_masked():
    world = shop()
    person = member(world, points=10)
    voucher = _issued(world, person)
    section = next(section for section in sections() if section.name == "reward_vouchers")

    rows = section.rows(person)

    assert {row["what"] for row in rows} == {"voucher", "redemption"}
    assert voucher.masked in str(rows) and unseal(voucher.sealed) not in str(rows)
