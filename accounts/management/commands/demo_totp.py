"""Print the current two-factor code of the demo staff accounts (their shared, documented demo secret)."""

from django.core.management.base import BaseCommand

from accounts.demo_staff import DEMO_TOTP_SECRET, demo_totp_code


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo staff accounts (seed_demo)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(demo_totp_code())
        self.stderr.write(f"(demo secret {DEMO_TOTP_SECRET}; a code lasts 30 seconds)")
