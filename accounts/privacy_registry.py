"""What each app holds about a person, for "download my data" and "close my account" (F-A5).

``accounts`` sits low in the layers, so it cannot ask the apps above it what they store. Instead
each app registers, in its ``AppConfig.ready()``:

- **export sections** (``section_register``): a name (the file name in the zip), a title and a
  description (for the zip's README.txt), and a function giving the person's rows as flat dicts of
  plain values (strings, numbers, booleans, None), written once as JSON and once as CSV;
- an **eraser** (``eraser_register``): what blocks closing the account (``blockers``, each a stable
  code and a message saying what to do), what the person must be told and accept before it is closed
  (``notices``, e.g. points that are forfeited: each a stable code and a message) and what closing it
  removes, anonymises or revokes (``erase``, run inside the erasure's transaction; it must be safe to run twice);
- the user foreign keys it deliberately does **not** export (``not_exported_register``), each with
  the reason (typically: the column records a staff member or a merchant's team member acting).

A test walks every model of the project's apps and fails on any foreign key to the user that no
section covers and no exclusion explains, so a new app cannot forget the person's data. Geofence
reports and devices of the push channel plug in here when those apps are built.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

Row = dict[str, Any]


@dataclass(frozen=True)
class ExportSection:
    name: str
    title: str
    description: str
    rows: "Callable[[User], list[Row]]"
    # The user foreign keys ("app_label.Model.field") whose rows this section exports.
    covers: tuple[str, ...] = ()
    order: int = 100


@dataclass(frozen=True)
class ErasureBlocker:
    """Something that must be settled before the account can be closed."""

    code: str
    message: str
    # Where the person can settle it: (URL name, link text) pairs, shown as links on the page.
    actions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ErasureNotice:
    """Something the person loses by closing the account, which they must acknowledge first (by its code)."""

    code: str
    message: str


@dataclass(frozen=True)
class Eraser:
    name: str
    erase: "Callable[[User], dict[str, int]]"
    blockers: "Callable[[User], list[ErasureBlocker]]" = field(default=lambda user: [])
    notices: "Callable[[User], list[ErasureNotice]]" = field(default=lambda user: [])
    # Lower runs first; accounts' own eraser (the user row) runs last.
    order: int = 100


_sections: dict[str, ExportSection] = {}
_erasers: dict[str, Eraser] = {}
_not_exported: dict[str, str] = {}
_settle_options: dict[str, list[Callable[..., list[tuple[str, str]]]]] = {}


def section_register(section: ExportSection) -> None:
    """Add an export section; registering the same name again replaces it (a reloaded app)."""
    _sections[section.name] = section


def eraser_register(eraser: Eraser) -> None:
    _erasers[eraser.name] = eraser


def not_exported_register(*, fields: Sequence[str], reason: str) -> None:
    """Say why these user foreign keys ("app_label.Model.field") are not part of the export."""
    for name in fields:
        _not_exported[name] = reason


def settle_option_register(*, blocker_code: str, options: "Callable[[User], list[tuple[str, str]]]") -> None:
    """Offer a way to settle a blocker another app raises (e.g. charity offers giving the balance
    away for wallet's ``balance_not_zero``): ``options(user)`` gives (URL name, link text) pairs."""
    if options not in _settle_options.setdefault(blocker_code, []):
        _settle_options[blocker_code].append(options)


def settle_options(*, blocker_code: str, user: "User") -> list[tuple[str, str]]:
    return [option for provider in _settle_options.get(blocker_code, []) for option in provider(user)]


def sections() -> list[ExportSection]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.name))


def erasers() -> list[Eraser]:
    return sorted(_erasers.values(), key=lambda eraser: (eraser.order, eraser.name))


def covered_fields() -> set[str]:
    return {name for section in _sections.values() for name in section.covers}


def not_exported() -> dict[str, str]:
    return dict(_not_exported)
