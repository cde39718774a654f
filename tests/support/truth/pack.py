"""What one school's targeting meeting pack must show, computed from the generator's record.

Built on the record's own truths (the action list of tests/support/truth/action_list.py,
the cohorts of truth_characteristics.py, the weeks of truth_weekly.py, pupil_attendance of
truth.py) and the marks themselves, never on serving/: which list each listed pupil is in,
why (as flag names), its priority and whether it is new, the N codes left unresolved, the
C2, K and B sessions, the cohorts and the weeks of the school.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from synthetic import SyntheticLA
from tests.support.truth import action_list as truth_action_list
from tests.support.truth import characteristics as truth_characteristics
from tests.support.truth import registers as truth
from tests.support.truth import weekly as truth_weekly

PROVISION_CODES = ("C2", "K", "B")
# What one reason already says of another: each is said once.
IMPLIED = {"support_first": "penalty_threshold", "severe_absence": "persistent_absence"}


@dataclass(frozen=True)
class PackPupil:
    upn: str
    listed_in: str  # "severe", "persistent" or "other"
    priority: int
    newly_listed: bool
    part_time_timetable: bool
    ncy: str
    sen_provision: str
    possible_sessions: int
    absence_percent: str  # one decimal, as an officer reads it
    reasons: tuple[str, ...]  # flag names, the most urgent first, each said once
    unresolved_n_sessions: int
    oldest_unresolved_n_date: date | None


def latest_year(la: SyntheticLA, last_day_index: int) -> str:
    return truth.academic_year(la.days[last_day_index])


def pack_pupils(la: SyntheticLA, last_day_index: int, urn: str) -> dict[str, PackPupil]:
    """UPN -> what the pack says of each enrolment of `urn` on this year's action list (one
    publication: every listed pupil is new)."""
    year = latest_year(la, last_day_index)
    found = {}
    for (school, upn, row_year), row in truth_action_list.expected_pupils_for_support(
        la, last_day_index
    ).items():
        if school != urn or row_year != year:
            continue
        on = {flag for flag in truth_action_list.PRIORITY_ORDER if row[flag]}
        on -= {implied for flag, implied in IMPLIED.items() if flag in on}
        listed_in = (
            "severe"
            if row["severe_absence"]
            else "persistent"
            if row["persistent_absence"]
            else "other"
        )
        found[upn] = PackPupil(
            upn=upn,
            listed_in=listed_in,
            priority=row["priority"],
            newly_listed=row["newly_listed"],
            part_time_timetable=row["part_time_timetable"],
            ncy=row["ncy"],
            sen_provision=row["sen_provision"],
            possible_sessions=row["possible_sessions"],
            absence_percent=f"{row['overall_absence_rate'] * 100:.1f}%",
            reasons=tuple(f for f in truth_action_list.PRIORITY_ORDER if f in on),
            unresolved_n_sessions=row["unresolved_n_sessions"],
            oldest_unresolved_n_date=row["oldest_unresolved_n_date"],
        )
    return found


def provision_sessions(
    la: SyntheticLA, last_day_index: int, urn: str
) -> dict[str, tuple[int, int]]:
    """Code -> (sessions, school days with one) of C2, K and B at `urn` this year."""
    year = latest_year(la, last_day_index)
    sessions: Counter = Counter()
    days: dict[str, set[date]] = {code: set() for code in PROVISION_CODES}
    for (school, _upn, day, _session), code in la.marks_known_after(last_day_index).items():
        if school == urn and code in PROVISION_CODES and truth.academic_year(day) == year:
            sessions[code] += 1
            days[code].add(day)
    return {code: (sessions[code], len(days[code])) for code in PROVISION_CODES}


def cohorts(la: SyntheticLA, last_day_index: int, level: str, area: str) -> dict[tuple, dict]:
    """(characteristic, group_value) -> the measures of the area's cohorts this year."""
    year = latest_year(la, last_day_index)
    return {
        (characteristic, group): row
        for (
            row_level,
            row_area,
            row_year,
            characteristic,
            group,
        ), row in truth_characteristics.expected_attendance_by_characteristic(
            la, last_day_index
        ).items()
        if (row_level, row_area, row_year) == (level, area, year)
    }


def weeks(la: SyntheticLA, last_day_index: int, urn: str) -> list[dict]:
    """The school's weeks of this year, in order."""
    year = latest_year(la, last_day_index)
    found = [
        {"week_start": week_start, **row}
        for (level, area, row_year, week_start), row in truth_weekly.expected_weekly_attendance(
            la, last_day_index
        ).items()
        if (level, area, row_year) == ("school", urn, year)
    ]
    return sorted(found, key=lambda row: row["week_start"])


def school_rates(
    la: SyntheticLA, last_day_index: int, urn: str, compulsory_only: bool
) -> dict[str, Fraction]:
    """The school's attendance, absence, persistent and severe absence rates this year: all
    pupils on roll, or those of compulsory school age only (the DfE-comparable figure)."""
    year = latest_year(la, last_day_index)
    rows = [
        row
        for (school, _upn, row_year), row in truth.expected_pupil_attendance(
            la, last_day_index
        ).items()
        if (school, row_year) == (urn, year)
        and (row["compulsory_school_age"] or not compulsory_only)
    ]
    possible = sum(r["possible_sessions"] for r in rows)
    attended = sum(r["present_sessions"] + r["aea_sessions"] for r in rows)
    return {
        "attendance": Fraction(attended, possible),
        "absence": 1 - Fraction(attended, possible),
        "persistent": Fraction(sum(r["is_persistent_absence"] for r in rows), len(rows)),
        "severe": Fraction(sum(r["is_severe_absence"] for r in rows), len(rows)),
    }
