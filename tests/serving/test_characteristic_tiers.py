"""attendance_by_characteristic in its two tiers, on the published generator LA
(`published`): the restricted tier whole and equal to the generator's truth; the public tier
(LA rows only: docs/bi.md) with no count of 1 to 4 shown, every shown count true, and no
withheld count that the sums an outsider knows can narrow, audited together with
attendance_by_sen and attendance_by_sen_need (whose rows its sen_provision rows repeat). The
sums are written out here again, from the generator's record, not taken from serving/public_tier.py.

The protection (docs/bi.md): a withheld count's feasible interval reaches zero or is at
least 5 wide."""

from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest

from publication.publish import PUBLISHED_DB
from serving.disclosure_audit import Disclosure, Sum, audit
from serving.public_tier import public_tier
from serving.reports.cohorts import cohort_rows
from synthetic import SyntheticLA
from tests.support.marts import assert_matches, rows
from tests.support.truth import characteristics as truth_characteristics
from tests.support.truth import registers as truth
from tests.support.truth.characteristics import CHARACTERISTICS, group_of

THRESHOLD = 5
MEASURES = {
    "enrolments": None,
    "persistent_absence_enrolments": "is_persistent_absence",
    "severe_absence_enrolments": "is_severe_absence",
}
MART = "attendance_by_characteristic"


def _groups(row: dict) -> dict[str, list[tuple]]:
    return {
        "sen": [(row["sen_provision"],)],
        "need": [(row["sen_provision"], row["sen_primary_need"])]
        if row["sen_provision"] in ("K", "E")
        else [],
        "char": [(c, group_of(row, c)) for c in CHARACTERISTICS],
    }


@pytest.fixture(scope="module")
def true_counts(serving_la: SyntheticLA) -> Counter:
    """(mart, level, area, year, group..., measure) -> the true count, the LA's area "la"."""
    last = serving_la.config.school_days - 1
    found: Counter = Counter()
    for (urn, _upn, year), row in truth.expected_pupil_attendance(serving_la, last).items():
        for mart, groups in _groups(row).items():
            for group in groups:
                for measure, flag in MEASURES.items():
                    add = 1 if flag is None else int(row[flag])
                    found[(mart, "school", urn, year, *group, measure)] += add
                    found[(mart, "la", "la", year, *group, measure)] += add
    return found


def _key(mart: str, row: dict) -> tuple:
    area = row["area"] if row["level"] == "school" else "la"
    if mart == "sen":
        group: tuple = (row["sen_provision"],)
    elif mart == "need":
        group = (row["sen_provision"], row["sen_primary_need"])
    else:
        group = (row["characteristic"], row["group_value"])
    return (mart, row["level"], area, row["academic_year"], *group)


def test_the_restricted_tier_is_whole_and_equals_the_truth(
    published: Path, serving_la: SyntheticLA
) -> None:
    got = rows(published / PUBLISHED_DB, MART)
    assert_matches(serving_la, serving_la.config.school_days - 1, MART, got)
    assert any(r["enrolments"] in range(1, 5) for r in got), "no small group to withhold"


def test_the_public_tier_shows_no_count_the_audit_can_narrow(
    published: Path, true_counts: Counter
) -> None:
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        tier = public_tier(con)
    tables = {
        "sen": tier.tables["attendance_by_sen"],
        "need": tier.tables["attendance_by_sen_need"],
        "char": tier.tables[MART],
    }
    values: dict[tuple, int] = {}
    withheld: set[tuple] = set()
    ordered: list[tuple[tuple, tuple]] = []
    secondary = 0
    for mart, table in tables.items():
        for row in table:
            key = _key(mart, row)
            for measure in MEASURES:
                cell = (*key, measure)
                values[cell] = true_counts[cell]
                if row[measure] is None:
                    withheld.add(cell)
                    secondary += mart == "char" and not 1 <= values[cell] <= 4
                else:
                    assert row[measure] == values[cell], cell
                    assert not 1 <= values[cell] <= 4, cell
            assert row["suppressed"] == any(row[m] is None for m in MEASURES), key
            ordered += [
                ((*key, "severe_absence_enrolments"), (*key, "persistent_absence_enrolments")),
                ((*key, "persistent_absence_enrolments"), (*key, "enrolments")),
            ]
    assert secondary > 0, "no complement was needed: the data tests nothing"
    assert {r["level"] for r in tables["char"]} == {"la"}, "school rows stay restricted"
    assert audit(Disclosure(values, frozenset(withheld), _sums(values), ordered), THRESHOLD) == []


def _sums(values: dict[tuple, int]) -> list[Sum]:
    """What an outsider knows: each school's roll (and its persistent and severe counts, as
    the DfE publishes them) unless 1 to 4 or the school has one SEN provision; every group's
    schools add up to the LA row; a characteristic's groups to the area's `all` row; the
    needs of a provision to its row; a sen_provision group is that provision's
    attendance_by_sen row."""
    sums: list[Sum] = []
    parts: dict[tuple, list[tuple]] = defaultdict(list)
    for cell in values:
        mart, level, area, year, *group, measure = cell
        if level == "school":
            parts[("la", mart, year, *group, measure)].append(cell)
        if mart == "char" and group[0] != "all":
            total = (mart, level, area, year, "all", "all", measure)
            parts[("all", total)].append(cell)
        if mart == "char" and group[0] == "sen_provision":
            sums.append(Sum((cell,), ("sen", level, area, year, group[1], measure)))
        if mart == "need":
            parts[("needs", ("sen", level, area, year, group[0], measure))].append(cell)
        if mart == "sen" and level == "school":
            parts[("roll", area, year, measure)].append(cell)
    for key, cells in parts.items():
        if key[0] == "la":
            mart, year, *rest = key[1:]
            sums.append(Sum(tuple(cells), (mart, "la", "la", year, *rest)))
        elif key[0] in ("all", "needs"):
            sums.append(Sum(tuple(cells), key[1]))
        elif len(cells) > 1 and not 1 <= sum(values[c] for c in cells) <= 4:
            # A school with one provision is left out (as in test_disclosure_audit.py): its
            # row is its roll, published elsewhere whatever this table does.
            sums.append(Sum(tuple(cells)))
    return sums


def test_a_schools_cohort_rows_are_its_restricted_rows_named_and_in_order(
    published: Path, serving_la: SyntheticLA
) -> None:
    """What the targeting pack shows: every group of the school (small ones included) with
    the truth's figures, `all` first, flags Yes before No."""
    expected = truth_characteristics.expected_attendance_by_characteristic(
        serving_la, serving_la.config.school_days - 1
    )
    urn = serving_la.schools[0].urn
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as con:
        got = cohort_rows(con, "school", urn)
        assert cohort_rows(con, "school", "999999") == []
    year = next(k[2] for k in expected if k[1] == urn)
    assert {(r.characteristic, r.group_value) for r in got} == {
        k[3:] for k in expected if k[:3] == ("school", urn, year)
    }
    for row in got:
        want = expected[("school", urn, year, row.characteristic, row.group_value)]
        assert (row.enrolments, row.persistent_absence_enrolments) == (
            want["enrolments"],
            want["persistent_absence_enrolments"],
        )
        assert row.severe_absence_enrolments == want["severe_absence_enrolments"]
    assert (got[0].characteristic_label, got[0].group_label) == ("All pupils", "All pupils")
    assert [r.characteristic for r in got] == sorted(
        (r.characteristic for r in got), key=list(CHARACTERISTICS).index
    )
    fsm = [r.group_label for r in got if r.characteristic == "fsm_eligible"]
    assert fsm == ["Yes", "No"]
