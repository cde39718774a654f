"""A school's (or the LA's) cohorts: its rows of attendance_by_characteristic, named for the
people in a targeting meeting, in the order MARTS.md lists the characteristics.

Read from the published (restricted) mart, whole: the school's own figures and the hub's,
small groups included (the public tier's copy is suppressed and has LA rows only). For the
reports and the per-school targeting pack.
"""

from dataclasses import dataclass

import duckdb

# The characteristics of attendance_by_characteristic, as a meeting would name them.
CHARACTERISTICS = {
    "all": "All pupils",
    "sen_provision": "SEN provision",
    "fsm_eligible": "Eligible for free school meals",
    "looked_after": "Looked after",
    "child_in_need": "Child in need",
    "child_protection_plan": "Child protection plan",
    "ncy": "Year group",
    "compulsory_school_age": "Of compulsory school age (5 to 15)",
}
SEN_PROVISIONS = {"N": "No SEN", "K": "SEN support", "E": "EHC plan"}
YEAR_GROUPS = {"N1": "Nursery 1", "N2": "Nursery 2", "R": "Reception", "unknown": "Not stated"}
# Group order within a characteristic: the group a meeting looks at first comes first.
ORDER = {"all": 0, "true": 0, "false": 1, "E": 0, "K": 1, "N": 2, "N1": -3, "N2": -2, "R": -1}


@dataclass(frozen=True)
class CohortRow:
    characteristic: str
    group_value: str
    characteristic_label: str
    group_label: str
    enrolments: int
    possible_sessions: int
    absence_sessions: int
    overall_absence_rate: float | None
    persistent_absence_enrolments: int
    persistent_absence_rate: float | None
    severe_absence_enrolments: int
    severe_absence_rate: float | None


def group_label(characteristic: str, group_value: str) -> str:
    """How a group is named: `Yes`/`No` for a flag, the provision's or year group's name."""
    if characteristic == "all":
        return "All pupils"
    if group_value in ("true", "false"):
        return "Yes" if group_value == "true" else "No"
    if characteristic == "sen_provision":
        return SEN_PROVISIONS.get(group_value, group_value)
    if characteristic == "ncy":
        return YEAR_GROUPS.get(group_value, f"Year {group_value}")
    return group_value


def _order(characteristic: str, group_value: str) -> tuple:
    rank = list(CHARACTERISTICS).index(characteristic)
    if characteristic == "ncy" and group_value.isdigit():
        return (rank, int(group_value), group_value)
    return (rank, ORDER.get(group_value, 99), group_value)


def cohort_rows(
    con: duckdb.DuckDBPyConnection, level: str, area: str, academic_year: str | None = None
) -> list[CohortRow]:
    """The cohort rows of one area (`level` "school" with a URN, or "la" with an LA code) for
    `academic_year` (the latest year the area has, when None), characteristics in MARTS.md's
    order; empty when the area has none."""
    found = con.execute(
        "select characteristic, group_value, enrolments, possible_sessions, absence_sessions,"
        " overall_absence_rate, persistent_absence_enrolments, persistent_absence_rate,"
        " severe_absence_enrolments, severe_absence_rate"
        " from attendance_by_characteristic where level = ? and area = ? and academic_year ="
        " coalesce(?, (select max(academic_year) from attendance_by_characteristic"
        " where level = ? and area = ?))",
        [level, area, academic_year, level, area],
    ).fetchall()
    rows = [
        CohortRow(c, g, CHARACTERISTICS.get(c, c), group_label(c, g), *rest)
        for c, g, *rest in found
    ]
    return sorted(rows, key=lambda r: _order(r.characteristic, r.group_value))
