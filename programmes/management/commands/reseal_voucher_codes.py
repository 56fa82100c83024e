"""``manage.py reseal_voucher_codes [--dry-run] [--batch-size N]``: after a new key was put first in
``FIELD_ENCRYPTION_KEYS``, reseal every voucher code under it, so the old key can be dropped
(docs/security.md). Safe to run again: rows already under the new key are skipped."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from programmes.voucher_keys import DEFAULT_BATCH, ResealProgress, voucher_codes_reseal


class Command(BaseCommand):
    help = "Reseal every voucher code under the first (newest) key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be resealed; change nothing.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="Rows per transaction.")

    def handle(self, *args: Any, dry_run: bool, batch_size: int, **options: Any) -> None:
        if not 1 <= batch_size <= 10_000:
            raise CommandError("--batch-size must be between 1 and 10000.")
        verb = "to reseal" if dry_run else "resealed"

        def report(progress: ResealProgress) -> None:
            self.stdout.write(
                f"{progress.seen} codes looked at: {progress.resealed} {verb}, "
                f"{progress.current} already under the newest key, {progress.unreadable} unreadable"
            )

        progress = voucher_codes_reseal(batch_size=batch_size, dry_run=dry_run, on_batch=report)
        report(progress)
        if progress.unreadable:
            raise CommandError(
                f"{progress.unreadable} codes open with no configured key: keep every old key in "
                "FIELD_ENCRYPTION_KEYS until they are found."
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
        else:
            self.stdout.write(self.style.SUCCESS("Done. Every readable code is under the newest key."))
