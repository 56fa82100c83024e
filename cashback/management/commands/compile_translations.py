from django.core.management.base import BaseCommand

from cashback.translations import translations_compile


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/django.po to .mo with Babel (no system gettext needed)."

    def handle(self, *args, **options) -> None:
        for path in translations_compile():
            self.stdout.write(f"Compiled {path}")
