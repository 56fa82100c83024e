"""Key rotation of the sealed voucher codes (``FIELD_ENCRYPTION_KEYS``, docs/security.md "Rotating
the field encryption key"): every ``VoucherCode.sealed`` not yet under the first (newest) key is
resealed under it (``MultiFernet.rotate``), in batches of rows locked in primary-key order, each batch
its own short transaction. A row already under the newest key is left alone, so the sweep can be run
again (after a crash, or twice by mistake) and does nothing more the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from cashback.sealed_text import InvalidToken, reseal, sealed_with_current_key
from programmes.catalogue_models import VoucherCode

DEFAULT_BATCH = 500


@dataclass
class ResealProgress:
    """Where the sweep stands: rows looked at, resealed (or, in a dry run, to reseal), already under
    the newest key, and rows no configured key opens (left as they are; logged by the command)."""

    seen: int = 0
    resealed: int = 0
    current: int = 0
    unreadable: int = 0


def voucher_codes_reseal(
    *,
    batch_size: int = DEFAULT_BATCH,
    dry_run: bool = False,
    on_batch: Callable[[ResealProgress], None] | None = None,
) -> ResealProgress:
    """Reseal every sealed voucher code under the first key of ``FIELD_ENCRYPTION_KEYS``.

    Precondition: every key that sealed a row is still in the list (after the new one). ``dry_run``
    counts what would change and writes nothing. ``on_batch`` is called after each batch."""
    progress = ResealProgress()
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = VoucherCode.objects.filter(pk__gt=last_pk).exclude(sealed="").order_by("pk")
            if not dry_run:
                rows = rows.select_for_update()
            batch = list(rows.only("pk", "sealed")[:batch_size])
            if not batch:
                break
            for code in batch:
                progress.seen += 1
                if sealed_with_current_key(code.sealed):
                    progress.current += 1
                    continue
                try:
                    token = reseal(code.sealed)
                except InvalidToken:
                    progress.unreadable += 1
                    continue
                progress.resealed += 1
                if not dry_run:
                    VoucherCode.objects.filter(pk=code.pk).update(sealed=token)
            last_pk = batch[-1].pk
        if on_batch is not None:
            on_batch(progress)
    return progress
