"""Secondary suppression: a withheld figure must not be recoverable, nor narrowable, from
what a table shows.

The aggregate marts withhold counts of 1 to 4 people (primary suppression, in dbt:
docs/models.md). A withheld cell can still be worked out from sums someone knows: the
school's total, the LA row that adds up its schools, the categories that add up to the
possible sessions. So every such sum is a `Sum` (serving/disclosure_audit.py), and:

1. greedy: while a sum has exactly one withheld cell, a shown cell of it is withheld too
   (the lowest-ranked, then non-zero, then smallest: a school cell before an LA cell, so
   LA figures stay shown), until no sum has a single unknown;
2. audit: linear programming bounds every withheld cell by all the sums together
   (disclosure_audit.py); for each cell narrowed below the protection, one more shown cell
   of a sum it is in is withheld (chosen as in 1), and both steps repeat; an LA figure
   only when no school figure reachable from the narrow cell is left (`last_resort`);
3. a cell still narrow with every figure of every sum reaching it withheld is pinned by
   totals published elsewhere alone: left as it is when its count is 0 or not small, and
   the table is refused (`DisclosureRefused`; nothing public is written) when it is 1 to 4.
"""

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from serving.disclosure_audit import Disclosure, Finding, Sum, audit

Cell = Hashable
# A cell's rank as a complement: lower ranks are withheld first.
Rank = Callable[[Cell], int]


class DisclosureRefused(RuntimeError):
    """A public table whose withheld figures the published sums narrow below the protection."""


def complementary_cells(
    values: Mapping[Cell, int | None],
    equations: Iterable[Sum],
    linked: Mapping[Cell, Sequence[Cell]] | None = None,
    rank: Rank | None = None,
) -> set[Cell]:
    """The cells to withhold besides those already None in `values` (step 1).

    `linked`: withholding a cell withholds these too (a row's persistent-absence count goes
    with its enrolments, whose rate would reveal them).
    """
    state = _State(dict(values), linked or {}, rank or (lambda _: 0))
    state.close(list(equations))
    return state.added


def protect(
    table: Disclosure,
    threshold: int,
    linked: Mapping[Cell, Sequence[Cell]] | None = None,
    rank: Rank | None = None,
    last_resort: Callable[[Cell], bool] | None = None,
) -> set[Cell]:
    """Every cell to withhold, the primary ones included, such that the audit passes (steps
    1 to 3). Raises DisclosureRefused when no more withholding can make it pass.

    `last_resort` cells (an LA's figures) are complements in step 1 only when the sum has
    no other shown cell, in step 2 only when no other shown cell reachable from the narrow
    one is left."""
    shown: dict[Cell, int | None] = {
        c: (None if c in table.withheld else v) for c, v in table.values.items()
    }
    state = _State(shown, linked or {}, rank or (lambda _: 0), last_resort)
    sums = list(table.sums)
    known: dict = {}
    # Cells an audit proved protected stay so as more is withheld (disclosure_audit.audit).
    settled: set[Cell] = set()
    # Complements pinned by totals published elsewhere alone (below).
    outside: set[Cell] = set()
    for cell in list(table.withheld):
        for other in state.linked.get(cell, ()):
            state.withhold(other)
    while True:
        state.close(sums)
        current = replace(table, withheld=frozenset(state.withheld))
        findings = [f for f in audit(current, threshold, known, settled) if f.cell not in outside]
        if not findings:
            return set(state.withheld)
        stuck = state.widen(findings, [*sums, *(Sum(pair) for pair in table.ordered)])
        # Every figure of every sum reaching such a cell is withheld: what pins it is totals
        # known outside the table (a school's roll), so this table neither reveals nor can
        # protect it. A count that is not small (0, or t and more) is left at that; a small
        # one is a real disclosure, and the table is refused.
        small = [f for f in stuck if 1 <= table.values[f.cell] < threshold]
        if small:
            raise DisclosureRefused(_refusal(small, threshold))
        outside.update(f.cell for f in stuck)


class _State:
    def __init__(
        self,
        values: dict[Cell, int | None],
        linked: Mapping[Cell, Sequence[Cell]],
        rank: Rank,
        last_resort: Callable[[Cell], bool] | None = None,
    ) -> None:
        self.values = values
        self.linked = linked
        self.rank = rank
        self.last_resort = last_resort or (lambda _: False)
        self.withheld = {cell for cell, value in values.items() if value is None}
        self.added: set[Cell] = set()

    def withhold(self, cell: Cell) -> None:
        pending = [cell]
        while pending:
            current = pending.pop()
            if current in self.withheld:
                continue
            self.withheld.add(current)
            self.added.add(current)
            pending.extend(self.linked.get(current, ()))

    def key(self, cell: Cell) -> tuple:
        value = self.values[cell]
        return (self.last_resort(cell), self.rank(cell), value == 0, value, repr(cell))

    def close(self, equations: list[Sum]) -> None:
        """Step 1: no sum is left with exactly one withheld cell."""
        changed = True
        while changed:
            changed = False
            for equation in equations:
                cells = set(equation.cells)
                unknown = [c for c in cells if c in self.withheld]
                visible = [c for c in cells if c not in self.withheld]
                if len(unknown) == 1 and visible:
                    self.withhold(min(visible, key=self.key))
                    changed = True

    def widen(self, findings: list[Finding], equations: list[Sum]) -> list[Finding]:
        """Step 2: for each narrowable cell, withhold one more shown cell of the sums it is
        in, or failing that of the sums of the cells it is bound up with; a `last_resort`
        cell only when no other shown cell is reachable at all. Returns the findings for
        which no shown cell is left."""
        by_cell: dict[Cell, list[Sum]] = {}
        for equation in equations:
            for cell in equation.cells:
                by_cell.setdefault(cell, []).append(equation)
        stuck = []
        for finding in findings:
            found = self.nearest(finding.cell, by_cell, lambda c: not self.last_resort(c))
            found = found or self.nearest(finding.cell, by_cell, lambda _: True)
            if found is None:
                stuck.append(finding)
            else:
                self.withhold(found)
        return stuck

    def nearest(
        self, start: Cell, by_cell: dict[Cell, list[Sum]], allowed: Callable[[Cell], bool]
    ) -> Cell | None:
        """The first shown, allowed cell of the sums reaching `start` through withheld cells,
        nearest sums first (chosen by `key` among equals)."""
        reached, frontier = {start}, [start]
        while frontier:
            near = {c for cell in frontier for eq in by_cell.get(cell, ()) for c in eq.cells}
            candidates = [c for c in near if c not in self.withheld and allowed(c)]
            if candidates:
                return min(candidates, key=self.key)
            # No allowed cell shown in those sums: look one sum further out.
            frontier = [c for c in near if c not in reached and c in self.withheld]
            reached.update(frontier)
        return None


def _refusal(findings: list[Finding], threshold: int) -> str:
    first = findings[0]
    return (
        f"public tier refused: {len(findings)} withheld count(s) can be narrowed from the "
        f"published sums below the protection (an interval reaching zero or at least "
        f"{threshold} wide, docs/bi.md); the first, {first.cell!r}, to an interval "
        f"{first.width:.1f} wide. "
        "Nothing public was written."
    )


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
