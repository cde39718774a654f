"""The audit of a suppressed table: how far can everything it publishes narrow each figure
it withholds?

A table shows some counts and withholds others. Someone outside also knows sums: a school's
categories add up to its possible sessions, its provisions to its roll (from the census), the
schools of an LA to the LA row. Each sum is a linear equation over the withheld counts once the
shown counts are put in; with non-negativity (and orderings such as severe <= persistent <=
enrolments) they bound every withheld count. Linear programming (`scipy.optimize.linprog`,
HiGHS) finds, for each withheld count, the smallest and largest value consistent with all of
it: its feasible interval. Integrality is relaxed, which can only widen an interval by less
than one; the rule below leaves room for that.

The protection rule (docs/bi.md, "Small-number suppression"), with `threshold` t the
smallest count shown (5): a withheld count is protected when its feasible interval reaches
down to zero (the published figures cannot prove that anyone is in it), or is at least t
wide (they cannot pin it closer than primary suppression does). A count narrowed to
[2, 4], or [41, 43], is not protected.

The equations fall apart into independent groups (withheld counts that share no equation
cannot constrain each other), so each group is its own LP: the size of a problem is that of
one school day across an LA, or one year's SEN rows, never the whole table. Within a group,
deciding protection takes a few LPs shared by all cells, not two per cell (`_decide`).
"""

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array

Cell = Hashable
# An interval narrower than this by less than rounding error is still wide enough.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Sum:
    """sum(parts) equals `total`, a cell of the table, or (None) a figure known elsewhere."""

    parts: tuple[Cell, ...]
    total: Cell | None = None

    @property
    def cells(self) -> tuple[Cell, ...]:
        return self.parts if self.total is None else (*self.parts, self.total)

    def coefficients(self) -> dict[Cell, int]:
        found: dict[Cell, int] = defaultdict(int)
        for cell in self.parts:
            found[cell] += 1
        if self.total is not None:
            found[self.total] -= 1
        return found


@dataclass(frozen=True)
class Disclosure:
    """What a table publishes: the true count of every cell, which are withheld, the sums and
    orderings known outside."""

    values: Mapping[Cell, int]
    withheld: frozenset[Cell]
    sums: Sequence[Sum]
    # (a, b): a <= b is known (severe absence enrolments <= persistent <= enrolments).
    ordered: Sequence[tuple[Cell, Cell]] = ()


@dataclass(frozen=True)
class Finding:
    """A withheld count the published figures narrow below the protection."""

    cell: Cell
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def groups(table: Disclosure) -> list[list[Cell]]:
    """The withheld cells in independent groups: two share a group when some sum or ordering
    holds both (or links them through others)."""
    parent = {cell: cell for cell in table.withheld}

    def root(cell: Cell) -> Cell:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    links: Iterable[Sequence[Cell]] = [
        *(s.cells for s in table.sums),
        *table.ordered,
    ]
    for cells in links:
        hidden = [c for c in cells if c in parent]
        for other in hidden[1:]:
            parent[root(other)] = root(hidden[0])
    found: dict[Cell, list[Cell]] = defaultdict(list)
    for cell in table.withheld:
        found[root(cell)].append(cell)
    return list(found.values())


Intervals = dict[Cell, tuple[float, float]]


def feasible_intervals(
    table: Disclosure,
    known: dict[frozenset, Intervals] | None = None,
    threshold: int | None = None,
    settled: set[Cell] | None = None,
) -> Intervals:
    """Each withheld cell's smallest and largest value consistent with what is shown.

    `known`: intervals of groups already solved, by the group's cells (filled in here). A
    group's LP depends only on its own cells, so one found again is not solved again: a
    suppression that withholds one more cell re-solves only the group it joins.
    With a `threshold`, only enough is sought to decide each cell's protection: for a cell
    that can be 0 the interval is (0, NaN); for one that two solutions already put at least
    `threshold` apart, the range between them, which the interval holds; cells in
    `settled` (see audit) are left out."""
    known = {} if known is None else known
    by_cell: dict[Cell, list[int]] = defaultdict(list)
    for index, equation in enumerate(table.sums):
        for cell in equation.cells:
            if cell in table.withheld:
                by_cell[cell].append(index)
    intervals: dict[Cell, tuple[float, float]] = {}
    for group in groups(table):
        key = frozenset(group)
        if key not in known:
            touching = sorted({i for cell in group for i in by_cell[cell]})
            sums = [table.sums[i] for i in touching]
            known[key] = _group_intervals(table, group, sums, threshold, settled)
        intervals.update(known[key])
    return intervals


def _group_intervals(
    table: Disclosure,
    group: list[Cell],
    sums: list[Sum],
    threshold: int | None,
    settled: set[Cell] | None,
) -> dict[Cell, tuple[float, float]]:
    column = {cell: i for i, cell in enumerate(group)}
    size = len(group)
    entries: list[tuple[int, int, int]] = []
    right: list[int] = []
    for equation in sums:
        # What the sum and the shown cells leave for the withheld ones.
        known = 0
        row = []
        for cell, coefficient in equation.coefficients().items():
            if cell in column and coefficient:
                row.append((len(right), column[cell], coefficient))
                known += coefficient * table.values[cell]
        if row:
            entries += row
            right.append(known)
    bounds: list[list[float | None]] = [[0.0, None] for _ in group]
    pairs: list[tuple[int, int]] = []
    for low, high in table.ordered:
        if low in column and high in column:
            pairs.append((column[low], column[high]))
        elif low in column:
            bounds[column[low]][1] = _tighter(bounds[column[low]][1], table.values[high], min)
        elif high in column:
            bounds[column[high]][0] = max(bounds[column[high]][0] or 0.0, table.values[low])
    problem = {
        "A_eq": _sparse(entries, len(right), size) if right else None,
        "b_eq": np.array(right, dtype=float) if right else None,
        "A_ub": _sparse(
            [(i, a, 1) for i, (a, _) in enumerate(pairs)]
            + [(i, b, -1) for i, (_, b) in enumerate(pairs)],
            len(pairs),
            size,
        )
        if pairs
        else None,
        "b_ub": np.zeros(len(pairs)) if pairs else None,
        "bounds": [tuple(b) for b in bounds],
        "method": "highs-ds",
    }
    if threshold is None:
        return {cell: _exact(i, problem) for cell, i in column.items()}
    truth = np.array([table.values[cell] for cell in group], dtype=float)
    return _decide(group, truth, problem, threshold, settled or set())


def _exact(i: int, problem: dict) -> tuple[float, float]:
    objective = np.zeros(len(problem["bounds"]))
    objective[i] = 1
    return _optimum(objective, problem), -_optimum(-objective, problem)


def _decide(
    group: list[Cell], truth: np.ndarray, problem: dict, threshold: int, settled: set[Cell]
) -> dict[Cell, tuple[float, float]]:
    """Enough of each cell's interval to decide its protection, from as few LPs as can be.

    Every LP solution is a point of the feasible set, and so are the true values: a cell
    that is 0 at some point can be 0 (interval (0, NaN)); one that two points put at least
    `threshold` apart is at least that wide (the range between them). So one LP that moves
    every undecided cell toward 0 at once decides all those it brings there; the same
    toward the top for the width. Only cells that such LPs leave undecided get LPs of their
    own, and each of those solutions is a point for the others as well. Cells in `settled`
    were proven protected in a narrower table and are not sought again (a cell withheld
    since only widens every interval)."""
    size = len(group)
    lows, highs = truth.copy(), truth.copy()
    intervals: dict[Cell, tuple[float, float]] = {}
    undecided = {i for i, cell in enumerate(group) if cell not in settled}

    def see(point: np.ndarray | None) -> None:
        if point is None:
            return
        np.minimum(lows, point, out=lows)
        np.maximum(highs, point, out=highs)
        for i in list(undecided):
            if lows[i] <= TOLERANCE:
                intervals[group[i]] = (0.0, math.nan)
                undecided.discard(i)
            elif highs[i] - lows[i] >= threshold - TOLERANCE:
                intervals[group[i]] = (float(lows[i]), float(highs[i]))
                undecided.discard(i)

    see(truth)
    # Toward 0 together, while that decides anything; then toward the top together.
    for sign in (1.0, -1.0):
        while undecided:
            before = len(undecided)
            objective = np.zeros(size)
            objective[sorted(undecided)] = sign
            see(_solution(objective, problem, unbounded_ok=True))
            if len(undecided) == before:
                break
    # The rest one by one: the exact minimum (a cell that cannot be 0), then the maximum.
    for i in sorted(undecided):
        if i not in undecided:
            continue
        objective = np.zeros(size)
        objective[i] = 1
        point = _solution(objective, problem)
        see(point)
        if i not in undecided:
            continue
        low = float(point[i])
        point = _solution(-objective, problem, unbounded_ok=True)
        see(point)
        if i in undecided:
            high = math.inf if point is None else float(point[i])
            intervals[group[i]] = (low, high)
            undecided.discard(i)
    return intervals


def _sparse(entries: list[tuple[int, int, int]], rows: int, columns: int) -> csr_array:
    row, column, value = zip(*entries, strict=True)
    return csr_array((np.array(value, dtype=float), (row, column)), shape=(rows, columns))


def _tighter(current: float | None, value: float, pick) -> float:
    return value if current is None else pick(current, value)


def _solution(
    objective: np.ndarray, problem: dict, unbounded_ok: bool = False
) -> np.ndarray | None:
    result = linprog(objective, **problem)
    if result.status == 3 and unbounded_ok:
        return None
    if result.status != 0:
        raise RuntimeError(f"disclosure audit: the LP failed ({result.message})")
    return result.x


def _optimum(objective: np.ndarray, problem: dict) -> float:
    result = linprog(objective, **problem)
    if result.status == 3:  # unbounded: nothing caps the cell
        return -math.inf
    if result.status != 0:
        # The true values satisfy every constraint, so the problem is feasible: a failure
        # here is a wrong equation, not a property of the data.
        raise RuntimeError(f"disclosure audit: the LP failed ({result.message})")
    return float(result.fun)


def is_protected(low: float, high: float, threshold: int) -> bool:
    """The documented protection rule (module docstring)."""
    return low <= TOLERANCE or high - low >= threshold - TOLERANCE


def audit(
    table: Disclosure,
    threshold: int,
    known: dict[frozenset, Intervals] | None = None,
    settled: set[Cell] | None = None,
) -> list[Finding]:
    """Every withheld count that the published figures narrow below the protection
    (`known`: as in feasible_intervals).

    `settled`: cells proven protected by an earlier audit of the same table (same values,
    sums and orderings) with fewer cells withheld; they are not sought again, and the cells
    this audit proves protected are added. Sound because withholding one more cell only
    frees a variable: every earlier solution, with that cell at its true value, is still a
    solution, so no interval narrows."""
    findings = []
    for cell, (low, high) in feasible_intervals(table, known, threshold, settled).items():
        if not is_protected(low, high, threshold):
            findings.append(Finding(cell, low, high))
        elif settled is not None:
            settled.add(cell)
    return sorted(findings, key=lambda f: repr(f.cell))
