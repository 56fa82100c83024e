"""Counts of people in a report, with every group smaller than 5 kept from being read (docs/reports.md).

A report splits a number of people into groups (age bands, genders, cities, tiers; new and returning
customers). Publishing the groups as they are would show that, say, exactly 2 customers of a shop are
over 65. The rule, applied to each split on its own:

1. Primary: every group with fewer than ``SMALL_GROUP`` people (0 included, so an empty group looks like
   a small one) is shown as "fewer than 5".
2. Secondary: when the split's total is known (it is printed, or the same people are counted elsewhere),
   subtracting the shown groups from it could give a hidden group's exact size. While that is possible,
   the smallest group still shown is hidden too ("hidden"). What a reader can work out is computed
   exactly: each hidden small group lies in 0..4, each hidden larger one in 5..(the smallest group still
   shown), and together they make the total less the shown ones.
3. If even hiding every group would leave one exact (e.g. two groups of 4 out of 8), the whole split is
   withheld: nothing of it is printed.
4. When the total is not to be known either, at least one group is hidden, so the shown ones never add
   up to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

SMALL_GROUP = 5


class CellState(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # fewer than SMALL_GROUP people: "fewer than 5"
    HIDDEN = "hidden"  # a larger group hidden so that a small one cannot be worked out


@dataclass(frozen=True)
class Cell:
    label: str
    state: CellState
    count: int | None  # only when shown

    @property
    def text(self) -> str:
        if self.state == CellState.SHOWN:
            return str(self.count)
        if self.state == CellState.SMALL:
            return f"fewer than {SMALL_GROUP}"
        return "hidden"


@dataclass(frozen=True)
class ProtectedSplit:
    cells: list[Cell]
    withheld: bool  # nothing of the split may be printed

    def shown_cells(self) -> list[Cell]:
        return [] if self.withheld else self.cells


def feasible_ranges(
    *, small: Mapping[str, int], hidden: Mapping[str, int], hidden_sum: int, shown_min: int | None
) -> dict[str, tuple[int, int]]:
    """What a reader can work out of each hidden group: its least and greatest possible size.

    ``small`` and ``hidden`` map the hidden groups (only their keys matter here); ``hidden_sum`` is the
    total less the shown groups; ``shown_min`` the smallest group still shown (a larger hidden group is
    at most that, since the smallest are hidden first). Box bounds and one sum: each range is exact.
    """
    upper_large = shown_min if shown_min is not None else hidden_sum
    bounds = {key: (0, SMALL_GROUP - 1) for key in small} | {key: (SMALL_GROUP, upper_large) for key in hidden}
    low_sum = sum(low for low, _ in bounds.values())
    high_sum = sum(high for _, high in bounds.values())
    return {
        key: (max(low, hidden_sum - (high_sum - high)), min(high, hidden_sum - (low_sum - low)))
        for key, (low, high) in bounds.items()
    }


def _exposed(counts: Mapping[str, int], small: set[str], hidden: set[str]) -> bool:
    shown = [count for key, count in counts.items() if key not in small and key not in hidden]
    hidden_sum = sum(counts.values()) - sum(shown)
    ranges = feasible_ranges(
        small=dict.fromkeys(small, 0),
        hidden=dict.fromkeys(hidden, 0),
        hidden_sum=hidden_sum,
        shown_min=min(shown) if shown else None,
    )
    # A small group is exposed when its size is pinned to one value that is not 0 (0 names nobody).
    return any(ranges[key][0] == ranges[key][1] and ranges[key][0] > 0 for key in small)


def protect_split(counts: Mapping[str, int], *, total_known: bool = True) -> ProtectedSplit:
    """The groups of one split of people, safe to print (the module's rule). Order is kept."""
    small = {key for key, count in counts.items() if count < SMALL_GROUP}
    hidden: set[str] = set()
    withheld = False

    def smallest_shown() -> str | None:
        shown = [(count, key) for key, count in counts.items() if key not in small and key not in hidden]
        return min(shown)[1] if shown else None

    if total_known:
        while small and _exposed(counts, small, hidden):
            key = smallest_shown()
            if key is None:
                withheld = True
                break
            hidden.add(key)
    elif not small and not hidden and sum(counts.values()) > 0:
        key = smallest_shown()
        if key is not None:
            hidden.add(key)
    cells = [
        Cell(label=key, state=CellState.SMALL, count=None)
        if key in small
        else Cell(label=key, state=CellState.HIDDEN, count=None)
        if key in hidden
        else Cell(label=key, state=CellState.SHOWN, count=count)
        for key, count in counts.items()
    ]
    return ProtectedSplit(cells=cells, withheld=withheld)


def people_count(count: int) -> Cell:
    """One number of people on its own: shown, or "fewer than 5"."""
    if count < SMALL_GROUP:
        return Cell(label="", state=CellState.SMALL, count=None)
    return Cell(label="", state=CellState.SHOWN, count=count)
