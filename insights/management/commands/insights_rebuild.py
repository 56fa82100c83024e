"""Rebuild the insights figures from the raw purchases and rewards.

    python manage.py insights_rebuild                                  # every merchant, every day
    python manage.py insights_rebuild --merchant 42                    # one merchant
    python manage.py insights_rebuild --merchant 42 --from 2026-01-01 --to 2026-03-31

Safe to run at any time (each merchant in its own transaction under its figures lock) and twice.
"""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights.figures import figures_rebuild


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = "Rebuild the daily figures (all merchants, or one; every day, or a date range) from the raw rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", type=int, help="Only this merchant id.")
        parser.add_argument("--from", dest="start", help="First day (YYYY-MM-DD), inclusive.")
        parser.add_argument("--to", dest="end", help="Last day (YYYY-MM-DD), inclusive.")

    def handle(self, *args: Any, **options: Any) -> None:
        start = _day(options["start"]) if options["start"] else None
        end = _day(options["end"]) if options["end"] else None
        if start and end and end < start:
            raise CommandError("--to is before --from.")
        done = figures_rebuild(merchant_id=options["merchant"], start=start, end=end)
        self.stdout.write(f"Rebuilt {done['rows']} figure rows for {done['merchants']} merchants.")
