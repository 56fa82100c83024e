"""Demo data for the embedded setup: a registry of each app's seeders, run in order by ``seed_demo``.

The base imports no app, so it cannot call the apps' demo modules itself. Each app registers its
seeders in its ``AppConfig.ready()`` with an order that says what it needs first (users before
cards, merchants before offers, charities before giving). Every seeder looks up before it creates,
so seeding twice changes nothing, and returns lines for the command's report.
"""

from collections.abc import Callable
from dataclasses import dataclass

Seeder = Callable[[], list[str]]

# The orders the apps use, in one place so the sequence can be read at a glance.
ORDER_USERS = 10
ORDER_CARDS = 20
ORDER_MERCHANTS = 30
ORDER_CHARITIES = 40
ORDER_CAMPAIGNS = 50
ORDER_GIVING = 60
ORDER_PROGRAMMES = 54  # the business programmes' brand owner (its reviewer is a demo user; rewards are this month's)
ORDER_BILLING = 55  # last month's statement, from the ledger (before giving: it pays the demo consumer)
ORDER_FIGURES = 70  # figures built from everything seeded before
ORDER_ADJUSTMENTS = 80  # the staff panel's demo manual adjustments, on accounts seeded before


@dataclass(frozen=True)
class _Registered:
    order: int
    name: str
    seeder: Seeder


_seeders: dict[str, _Registered] = {}


def register(*, order: int, seeder: Seeder) -> None:
    """Run ``seeder`` in ``seed_demo`` at ``order`` (lower first). Registering the same seeder again
    replaces it, so a ``ready()`` that runs twice does not seed twice."""
    name = f"{seeder.__module__}.{seeder.__qualname__}"
    _seeders[name] = _Registered(order=order, name=name, seeder=seeder)


def seed_demo_data() -> list[str]:
    report: list[str] = []
    for registered in sorted(_seeders.values(), key=lambda item: (item.order, item.name)):
        report.extend(registered.seeder())
    return report
