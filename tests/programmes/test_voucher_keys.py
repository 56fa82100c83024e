"""Rotating FIELD_ENCRYPTION_KEYS (``reseal_voucher_codes``): codes sealed under the old key are
resealed under the new one, so the old key can be dropped; the sweep is idempotent and a dry run
changes nothing."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from cashback.sealed_text import InvalidToken, unseal
from programmes import vouchers
from programmes.catalogue_models import VoucherCode
from tests.programmes.catalogue_factories import item, shop

pytestmark = pytest.mark.django_db


def _codes(world, count: int) -> list[VoucherCode]:
    reward = item(world, code_source="uploaded")
    content = ("code\n" + "\n".join(f"ROTATE-{n:04d}" for n in range(count)) + "\n").encode()
    vouchers.voucher_batch_upload(role=world.marketing, item=reward, filename="r.csv", content=content)
    return list(VoucherCode.objects.order_by("pk"))


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("reseal_voucher_codes", *args, stdout=out)
    return out.getvalue()


def test_codes_sealed_with_the_old_key_open_with_the_new_key_alone_after_the_sweep(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    world = shop()
    codes = _codes(world, 5)

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    output = _run("--batch-size", "2")

    assert "5 codes looked at: 5 resealed" in output
    assert output.count("codes looked at") == 4  # three batches of at most 2, then the total
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert sorted(unseal(code.sealed) for code in VoucherCode.objects.all()) == [
        f"ROTATE-{n:04d}" for n in range(len(codes))
    ]


def test_the_sweep_is_idempotent(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    _codes(shop(), 3)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    _run()
    tokens = list(VoucherCode.objects.order_by("pk").values_list("sealed", flat=True))

    output = _run()

    assert "3 codes looked at: 0 resealed, 3 already under the newest key" in output
    assert list(VoucherCode.objects.order_by("pk").values_list("sealed", flat=True)) == tokens


def test_a_dry_run_counts_and_changes_nothing(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    _codes(shop(), 2)
    tokens = list(VoucherCode.objects.order_by("pk").values_list("sealed", flat=True))
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    output = _run("--dry-run")

    assert "2 to reseal" in output and "Dry run" in output
    assert list(VoucherCode.objects.order_by("pk").values_list("sealed", flat=True)) == tokens
    settings.FIELD_ENCRYPTION_KEYS = [new]
    with pytest.raises(InvalidToken):
        unseal(tokens[0])


def test_a_code_no_configured_key_opens_is_reported_and_left_alone(settings):
    lost, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [lost]
    _codes(shop(), 1)
    settings.FIELD_ENCRYPTION_KEYS = [new]

    with pytest.raises(CommandError, match="1 codes open with no configured key"):
        _run()
