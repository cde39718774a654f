"""The LP audit of the public tier: it finds a withheld count that a weak suppression leaves
narrowable though no single subtraction recovers it, it passes the project's own suppression
(checked with equations written out here again), and a table that cannot be protected is
refused. All on the published generator LA (`published`).

The protection (docs/bi.md): a withheld count's feasible interval reaches zero or is at least
5 wide."""

from collections import Counter
from itertools import permutations
from pathlib import Path

import duckdb
import pytest

from publication.publish import PUBLISHED_DB
from serving.disclosure_audit import Disclosure, Sum, audit, feasible_intervals
from serving.public_tier import DAILY_PARTS, DAILY_TO_DFE, public_tier
from serving.suppression import DisclosureRefused, protect, recoverable_cells

THRESHOLD = 5
MEASURES = {
    "enrolments": None,
    "persistent_absence_enrolments": "is_persistent_absence",
    "severe_absence_enrolments": "is_severe_absence",
}


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@pytest.fixture(scope="module")
def counts(published: Path) -> Counter:
    """True attendance_by_sen counts from the pupil rows: (level, area, year, provision,
    measure); the LA's area is "la"."""
    found: Counter = Counter()
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        for e in _rows(con, "select * from pupil_attendance"):
            for measure, flag in MEASURES.items():
                add = 1 if flag is None else int(e[flag])
                group = (e["academic_year"], e["sen_provision"], measure)
                found[("school", e["urn"], *group)] += add
                found[("la", "la", *group)] += add
    return found


def _grid(counts: Counter, measure: str) -> tuple[dict, list[Sum]]:
    """One measure of attendance_by_sen as cells (urn or "la", year, provision) and its sums:
    each school's provisions (its roll, known), each provision's schools (the LA row)."""
    values = {(k[1], k[2], k[3]): v for k, v in counts.items() if k[4] == measure}
    schools = sorted({urn for urn, _, _ in values if urn != "la"})
    keys = sorted({(year, p) for _, year, p in values})
    # A school's total is known outside (census, DfE) unless it is 1 to 4, which those
    # publications withhold too. A school with one provision is left out: its row is its
    # total, published there whatever this table does.
    rolls = [tuple((urn, y, p) for y, p in keys if (urn, y, p) in values) for urn in schools]
    sums = [
        Sum(cells)
        for cells in rolls
        if len(cells) > 1 and not 1 <= sum(values[c] for c in cells) <= 4
    ]
    for y, p in keys:
        parts = tuple((urn, y, p) for urn in schools if (urn, y, p) in values)
        sums.append(Sum(parts, ("la", y, p)))
    return values, sums


def test_a_rectangle_no_subtraction_recovers_is_narrowed_by_the_lp(counts: Counter) -> None:
    """Four school cells withheld in a rectangle (two schools, two provisions): every sum has
    two unknowns, so the old single-subtraction check passes; together the sums bound the
    first cell to [max(0, c1 - r2), min(r1, c1)], worked out by hand below, and when that
    interval neither reaches zero nor is 5 wide, the audit says so."""
    found = None
    for measure in MEASURES:
        values, sums = _grid(counts, measure)
        schools = sorted({urn for urn, _, _ in values if urn != "la"})
        keys = sorted({(y, p) for _, y, p in values})
        for s1, s2 in permutations(schools, 2):
            for k1, k2 in permutations(keys, 2):
                cells = [(s1, *k1), (s1, *k2), (s2, *k1), (s2, *k2)]
                known = {s.parts for s in sums if s.total is None}
                if not all(c in values for c in cells) or not all(
                    any(c in roll for roll in known) for c in cells
                ):
                    continue
                x11, x12, x21, x22 = (values[c] for c in cells)
                r1, c1, r2 = x11 + x12, x11 + x21, x21 + x22
                low, high = max(0, c1 - r2), min(r1, c1)
                if low > 0 and high - low < THRESHOLD:
                    found = values, sums, cells, (low, high)
    assert found, "the generator LA has no narrowable rectangle: the test would test nothing"
    values, sums, cells, (low, high) = found
    weak = Disclosure(values, frozenset(cells), sums)
    shown = {c: (None if c in cells else v) for c, v in values.items()}
    assert recoverable_cells(shown, [s.cells for s in sums]) == []
    assert feasible_intervals(weak)[cells[0]] == pytest.approx((low, high))
    assert cells[0] in {f.cell for f in audit(weak, THRESHOLD)}
    # The project's remedy: more complements until the audit passes.
    withheld = protect(weak, THRESHOLD)
    assert withheld > set(cells)
    assert audit(Disclosure(values, frozenset(withheld), sums), THRESHOLD) == []


def test_the_projects_suppression_passes_the_audit(published: Path, counts: Counter) -> None:
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        tier = public_tier(con)
        feed = {
            (r["urn"], r["attendance_date"]): r
            for r in _rows(con, "select * from dfe_daily_attendance")
        }
    by_sen = tier.tables["attendance_by_sen"]
    secondary = 0
    for measure in MEASURES:
        values, sums = _grid(counts, measure)
        withheld = set()
        for row in by_sen:
            cell = ("la" if row["level"] == "la" else row["area"], row["academic_year"])
            cell = (*cell, row["sen_provision"])
            true = values[cell]
            if row[measure] is None:
                withheld.add(cell)
                secondary += not 1 <= true <= 4
            else:
                assert row[measure] == true and not 1 <= true <= 4, (cell, measure)
        assert audit(Disclosure(values, frozenset(withheld), sums), THRESHOLD) == []
    assert secondary > 0, "no complement was needed: the data tests nothing"
    daily = tier.tables["school_daily_attendance"]
    values, withheld, sums = {}, set(), []
    for i, row in enumerate(daily):
        true = feed[(row["urn"], row["session_date"])]
        for column, dfe in DAILY_TO_DFE.items():
            values[(i, column)] = true[dfe]
            if row[column] is None:
                withheld.add((i, column))
            else:
                assert row[column] == true[dfe] and not 1 <= true[dfe] <= 4
        sums.append(Sum(tuple((i, c) for c in DAILY_PARTS), (i, "possible_sessions")))
    for day in {r["session_date"] for r in daily}:
        rows = [i for i, r in enumerate(daily) if r["session_date"] == day]
        for column in DAILY_TO_DFE:
            # The LA's daily figure is published by the DfE unless it is 1 to 4.
            if not 1 <= sum(values[(i, column)] for i in rows) <= 4:
                sums.append(Sum(tuple((i, column) for i in rows)))
    assert withheld, "nothing withheld: the data tests nothing"
    assert audit(Disclosure(values, frozenset(withheld), sums), THRESHOLD) == []


def test_a_table_that_cannot_be_protected_is_refused(published: Path) -> None:
    """A school's small count that equals a total known outside the table (as the LA's daily
    figure would for an LA of one school) stays known whatever is withheld: refused."""
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        feed = _rows(con, "select * from dfe_daily_attendance order by urn, attendance_date")
    row = next(r for r in feed if 1 <= r["approved_educational_activity"] <= 4)
    values = {column: row[dfe] for column, dfe in DAILY_TO_DFE.items()}
    sums = [
        Sum(DAILY_PARTS, "possible_sessions"),
        *(Sum((column,)) for column in DAILY_TO_DFE),
    ]
    table = Disclosure(values, frozenset({"aea_sessions"}), sums)
    with pytest.raises(DisclosureRefused, match="public tier refused") as refused:
        protect(table, THRESHOLD)
    assert "Nothing public was written" in str(refused.value)


def _exactly_narrow(table: Disclosure) -> set:
    """The cells whose exact feasible interval (a minimum and a maximum LP each, no
    shortcut) is below the protection."""
    return {
        cell
        for cell, (low, high) in feasible_intervals(table).items()
        if not (low <= 1e-6 or high - low >= THRESHOLD - 1e-6)
    }


def test_the_audits_shortcuts_decide_as_exact_intervals_do(counts: Counter) -> None:
    """The audit decides most cells from shared LP solutions (cells brought to 0 together,
    cells two solutions put 5 apart) and skips cells settled by an earlier audit; it must
    find exactly the cells that every cell's own minimum and maximum find narrow, both for
    primary suppression alone (narrow cells to find) and for the suppression that protect
    builds on it with the audit's shortcuts (none left)."""
    checked = 0
    for measure in MEASURES:
        values, sums = _grid(counts, measure)
        primary = frozenset(c for c, v in values.items() if 1 <= v <= 4)
        weak = Disclosure(values, primary, sums)
        narrow = _exactly_narrow(weak)
        assert {f.cell for f in audit(weak, THRESHOLD)} == narrow
        checked += len(narrow)
        strong = Disclosure(values, frozenset(protect(weak, THRESHOLD)), sums)
        assert _exactly_narrow(strong) == set()
        assert audit(strong, THRESHOLD) == []
    assert checked > 0, "primary suppression alone left nothing narrow: the test tests nothing"


def test_la_figures_are_complements_only_as_a_last_resort(counts: Counter) -> None:
    """With the LA's figures as `last_resort`, an LA figure is a complement only when no
    school figure can be: here an LA figure is in one sum only (its schools), so every LA
    figure withheld that is not itself 1 to 4 has every school figure of that sum withheld
    too, even under a rank that prefers LA figures (which alone takes them). School
    figures do the rest, and the audit, re-done with every cell's own LPs, passes."""
    complements = preferred = 0
    for measure in MEASURES:
        values, sums = _grid(counts, measure)
        primary = frozenset(c for c, v in values.items() if 1 <= v <= 4)
        weak = Disclosure(values, primary, sums)
        # A rank preferring LA figures: `last_resort` must still keep them out.
        la_first = protect(weak, THRESHOLD, rank=lambda c: int(c[0] != "la"))
        preferred += len({c for c in la_first - primary if c[0] == "la"})
        withheld = protect(
            weak, THRESHOLD, rank=lambda c: int(c[0] != "la"), last_resort=lambda c: c[0] == "la"
        )
        for total in {c for c in withheld if c[0] == "la"} - primary:
            schools = next(s.parts for s in sums if s.total == total)
            assert set(schools) <= withheld, (measure, total)
        assert _exactly_narrow(Disclosure(values, frozenset(withheld), sums)) == set()
        complements += len({c for c in withheld - primary if c[0] != "la"})
    assert complements > 0, "no school complement was needed: the test tests nothing"
    assert preferred > 0, "the rank alone took no LA figure: the test tests nothing"
