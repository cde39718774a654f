"""Secondary suppression: a withheld figure must not be recoverable by subtraction.

The aggregate marts withhold counts of 1 to 4 people (primary suppression, in dbt:
docs/models.md). A withheld cell is still recoverable when it is the only unknown of a sum
someone knows: the school's total, the LA row that adds up its schools, the reasons that add
up to a category. So every such sum is an *equation*: a set of cells whose total is
published or known elsewhere. While an equation has exactly one withheld cell, the smallest
visible cell of it (preferring non-zero ones, which reveal something) is withheld too, and
this repeats until no equation has exactly one unknown. A withheld cell is then at least one
of two unknowns in every equation it is in.
"""

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

Cell = Hashable


def complementary_cells(
    values: Mapping[Cell, int | None],
    equations: Iterable[Sequence[Cell]],
    linked: Mapping[Cell, Sequence[Cell]] | None = None,
) -> set[Cell]:
    """The cells to withhold besides those already None in `values`.

    `equations`: sets of cells whose sum is known. `linked`: withholding a cell withholds
    these too (a row's persistent-absence count goes with its enrolments, whose rate would
    reveal them).
    """
    equations = [list(dict.fromkeys(e)) for e in equations if len(e) > 1]
    linked = linked or {}
    withheld = {cell for cell, value in values.items() if value is None}
    added: set[Cell] = set()

    def withhold(cell: Cell) -> None:
        pending = [cell]
        while pending:
            current = pending.pop()
            if current in withheld:
                continue
            withheld.add(current)
            added.add(current)
            pending.extend(linked.get(current, ()))

    for cell in list(withheld):
        for other in linked.get(cell, ()):
            withhold(other)
    changed = True
    while changed:
        changed = False
        for equation in equations:
            unknown = [c for c in equation if c in withheld]
            if len(unknown) != 1:
                continue
            visible = [c for c in equation if c not in withheld]
            if not visible:
                continue
            withhold(min(visible, key=lambda c: (values[c] == 0, values[c], repr(c))))
            changed = True
    return added


def recoverable_cells(
    values: Mapping[Cell, int | None], equations: Iterable[Sequence[Cell]]
) -> list[tuple[Cell, Sequence[Cell]]]:
    """Withheld cells that are the only unknown of some equation: what an attacker recovers
    by subtracting the visible cells from the known total. Empty after suppression."""
    found = []
    for equation in equations:
        unknown = [c for c in equation if values.get(c) is None]
        if len(unknown) == 1 and len(equation) > 1:
            found.append((unknown[0], equation))
    return found


def blank(row: dict[str, Any], columns: Iterable[str]) -> None:
    """Set `columns` of `row` to None and mark the row suppressed."""
    for column in columns:
        row[column] = None
    row["suppressed"] = True
