from django.core.management.base import BaseCommand

from accounts.services import staff_roles_sync


class Command(BaseCommand):
    help = "Create the staff role groups and set their permissions (run again after adding apps or permissions)."

    def handle(self, *args, **options) -> None:
        for role, count in staff_roles_sync().items():
            self.stdout.write(f"{role}: {count} permissions")
