"""Groups under 5 people are never printed as a count, and cannot be worked out from what is printed."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from insights.small_groups import SMALL_GROUP, CellState, people_count, protect_split


def _what_a_reader_can_work_out(published, total: int | None) -> dict[str, set[int]]:
    """Every size each hidden group could have, by trying all (an attacker with the printed numbers,
    the total, and the documented rule: "fewer than 5" is 0..4; "hidden" is 5..the smallest shown)."""
    shown = {cell.label: cell.count for cell in published.cells if cell.state == CellState.SHOWN}
    hidden = [cell for cell in published.cells if cell.state != CellState.SHOWN]
    if total is None:
        return {cell.label: set(range(SMALL_GROUP)) if cell.state == CellState.SMALL else {5, 6} for cell in hidden}
    rest = total - sum(shown.values())
    upper = min(shown.values()) if shown else rest
    ranges = [
        range(SMALL_GROUP) if cell.state == CellState.SMALL else range(SMALL_GROUP, max(upper, SMALL_GROUP) + 1)
        for cell in hidden
    ]
    possible: dict[str, set[int]] = {cell.label: set() for cell in hidden}
    for sizes in itertools.product(*ranges):
        if sum(sizes) == rest:
            for cell, size in zip(hidden, sizes, strict=True):
                possible[cell.label].add(size)
    return possible


splits = st.lists(st.integers(min_value=0, max_value=14), min_size=1, max_size=5).map(
    lambda sizes: {f"group {index}": size for index, size in enumerate(sizes)}
)


@settings(max_examples=400, deadline=None)
@given(counts=splits, total_known=st.booleans())
def test_no_small_group_is_printed_or_can_be_worked_out(counts, total_known):
    published = protect_split(counts, total_known=total_known)
    if published.withheld:
        return  # nothing of the split is printed
    for cell in published.cells:
        # Never a count under 5 on the page; a shown count is the true one.
        if cell.state == CellState.SHOWN:
            assert cell.count == counts[cell.label] >= SMALL_GROUP
        else:
            assert cell.count is None
        if counts[cell.label] < SMALL_GROUP:
            assert cell.state == CellState.SMALL
    possible = _what_a_reader_can_work_out(published, sum(counts.values()) if total_known else None)
    for label, sizes in possible.items():
        if 0 < counts[label] < SMALL_GROUP:
            assert len(sizes) > 1, f"{label} of {counts} can be worked out from {published}"
    if not total_known and sum(counts.values()) > 0:
        # The shown groups never add up to the total.
        assert any(cell.state != CellState.SHOWN for cell in published.cells)


def test_one_small_group_hides_a_second_one_so_the_total_does_not_give_it_away():
    published = protect_split({"female": 12, "male": 9, "other": 2, "not given": 30})
    states = {cell.label: cell.state for cell in published.cells}
    assert states == {
        "female": CellState.SHOWN,
        "male": CellState.HIDDEN,
        "other": CellState.SMALL,
        "not given": CellState.SHOWN,
    }
    assert [cell.text for cell in published.cells] == ["12", "hidden", "fewer than 5", "30"]


def test_two_groups_of_four_out_of_eight_are_withheld_whole():
    assert protect_split({"new": 4, "returning": 4}).withheld


def test_a_lone_count_under_five_reads_fewer_than_five():
    assert people_count(3).text == "fewer than 5"
    assert people_count(0).text == "fewer than 5"
    assert people_count(5).text == "5"
