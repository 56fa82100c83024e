import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cashback import health


class Command(BaseCommand):
    help = (
        "Run the readiness checks (database, redis, worker; all of READINESS_CHECKS when none is named), "
        "print them as JSON and exit 1 when one fails. For the healthchecks of processes without an HTTP "
        "port (the Celery worker and beat in docker-compose.yml)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("checks", nargs="*", metavar="check", help=f"one of {', '.join(health.CHECKS)}")

    def handle(self, *args, **options) -> None:
        if unknown := set(options["checks"]) - set(health.CHECKS):
            raise CommandError(f"Unknown check {', '.join(sorted(unknown))}: use {', '.join(health.CHECKS)}.")
        ok, results = health.readiness(checks=options["checks"] or None)
        self.stdout.write(json.dumps({"status": "ok" if ok else "unavailable", "checks": results}))
        if not ok:
            raise CommandError("not ready")
