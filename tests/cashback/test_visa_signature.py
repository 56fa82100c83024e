import hashlib
import hmac

import pytest

from cashback.providers.visa_signature import (
    SignatureInvalidError,
    SignatureMissingError,
    TimestampStaleError,
    sign,
    verify,
)

BODY = b'{"id":"evt_1","type":"transaction.auth","data":{}}'
NOW = 1_795_428_000
CURRENT, PREVIOUS = "whsec_current", "whsec_previous"


def v1(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_sign_returns_the_header_of_the_contract():
    assert sign(body=BODY, secret=CURRENT, timestamp=NOW) == f"t={NOW},v1={v1(BODY, CURRENT, NOW)}"


def test_a_signed_body_verifies():
    verify(header=sign(body=BODY, secret=CURRENT, timestamp=NOW), body=BODY, secrets=[CURRENT], now=NOW)


def test_during_rotation_the_header_may_carry_several_v1_and_any_one_matching_is_enough():
    header = f"t={NOW},v1={v1(BODY, PREVIOUS, NOW)},v1={v1(BODY, CURRENT, NOW)}"

    verify(header=header, body=BODY, secrets=[CURRENT], now=NOW)
    verify(header=header, body=BODY, secrets=[PREVIOUS], now=NOW)


def test_the_previous_secret_is_accepted_while_it_is_configured():
    header = sign(body=BODY, secret=PREVIOUS, timestamp=NOW)

    verify(header=header, body=BODY, secrets=[CURRENT, PREVIOUS], now=NOW)
    with pytest.raises(SignatureInvalidError):
        verify(header=header, body=BODY, secrets=[CURRENT], now=NOW)


@pytest.mark.parametrize(
    ("header", "body", "secrets"),
    [
        (f"t={NOW},v1={v1(BODY, 'whsec_other', NOW)}", BODY, [CURRENT]),  # another secret
        (f"t={NOW},v1={v1(BODY, CURRENT, NOW)}", BODY + b" ", [CURRENT]),  # body changed by one byte
        (f"t={NOW},v1={v1(BODY, CURRENT, NOW - 1)}", BODY, [CURRENT]),  # timestamp changed after signing
        (f"t={NOW},v1={v1(BODY, CURRENT, NOW)}", BODY, ["", ""]),  # no secret configured: nothing verifies
        (f"t={NOW},v1=ÿÿnot-hex", BODY, [CURRENT]),  # garbage, non-ASCII included
    ],
    ids=["other-secret", "tampered-body", "tampered-timestamp", "empty-secrets", "garbage"],
)
def test_a_signature_that_does_not_match_is_invalid(header, body, secrets):
    with pytest.raises(SignatureInvalidError) as error:
        verify(header=header, body=body, secrets=secrets, now=NOW)
    assert error.value.code == "signature_invalid"


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", f"t={NOW},v0=abc", "t=soon,v1=abc", "garbage"])
def test_a_missing_or_unreadable_header_is_refused(header):
    with pytest.raises(SignatureMissingError) as error:
        verify(header=header, body=BODY, secrets=[CURRENT], now=NOW)
    assert error.value.code == "signature_missing"


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_a_timestamp_beyond_the_tolerance_either_way_is_stale(age):
    header = sign(body=BODY, secret=CURRENT, timestamp=NOW - age)

    with pytest.raises(TimestampStaleError) as error:
        verify(header=header, body=BODY, secrets=[CURRENT], now=NOW)
    assert error.value.code == "timestamp_stale"
    assert error.value.http_status == 400


@pytest.mark.parametrize("age", [300, -300, 0])
def test_a_timestamp_within_the_tolerance_is_accepted(age):
    verify(header=sign(body=BODY, secret=CURRENT, timestamp=NOW - age), body=BODY, secrets=[CURRENT], now=NOW)


def test_the_tolerance_can_be_narrowed():
    header = sign(body=BODY, secret=CURRENT, timestamp=NOW - 10)
    with pytest.raises(TimestampStaleError):
        verify(header=header, body=BODY, secrets=[CURRENT], now=NOW, tolerance=5)
