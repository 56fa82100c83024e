from django.core.management.base import BaseCommand

from cashback.demo import seed_demo_data


class Command(BaseCommand):
    help = "Create the demo data for the embedded setup. Safe to run any number of times."

    def handle(self, *args, **options) -> None:
        report = seed_demo_data()
        for line in report:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
