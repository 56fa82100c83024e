"""Check the ledger's invariants; exit 1 with a readable report when one fails."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wallet.invariants import CHECKS


class Command(BaseCommand):
    help = (
        "Check the ledger: every journal transaction balances per currency, cached balances equal the "
        "sum of entries, no non-negative account is negative, holds are consistent. Exits 1 on a failure."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        for description, check in CHECKS.items():
            violations = check()
            if not violations:
                self.stdout.write(f"ok    {description}")
                continue
            failures += len(violations)
            self.stdout.write(self.style.ERROR(f"FAIL  {description} ({len(violations)} problems)"))
            for violation in violations:
                self.stdout.write(f"      - {violation.subject}: {violation.detail}")
        if failures:
            raise CommandError(f"Ledger check failed: {failures} problems found (see above).")
        self.stdout.write(self.style.SUCCESS("Ledger check passed."))
