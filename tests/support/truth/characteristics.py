"""attendance_by_characteristic from the generator's record: each enrolment of
pupil_attendance's truth (truth/registers.py), grouped by every characteristic MARTS.md
lists, at school and LA level. True counts: the restricted tier withholds nothing."""

from collections import defaultdict

from synthetic import SyntheticLA
from tests.support.truth import registers as truth

CHARACTERISTICS = (
    "all",
    "sen_provision",
    "fsm_eligible",
    "looked_after",
    "child_in_need",
    "child_protection_plan",
    "ncy",
    "compulsory_school_age",
)


def group_of(row: dict, characteristic: str) -> str:
    """The enrolment's group_value for `characteristic`, spelt as the mart spells it."""
    if characteristic == "all":
        return "all"
    value = row[characteristic]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "unknown" if value is None else str(value)


def measures(rows: list[dict]) -> dict:
    """The mart's measures of a group of pupil_attendance truth rows."""
    enrolments = len(rows)
    possible = sum(r["possible_sessions"] for r in rows)
    absence = sum(
        r["authorised_absence_sessions"] + r["unauthorised_absence_sessions"] for r in rows
    )
    persistent = sum(r["is_persistent_absence"] for r in rows)
    severe = sum(r["is_severe_absence"] for r in rows)
    return {
        "enrolments": enrolments,
        "possible_sessions": possible,
        "absence_sessions": absence,
        "overall_absence_rate": truth._rate(absence, possible),
        "persistent_absence_enrolments": persistent,
        "persistent_absence_rate": truth._rate(persistent, enrolments),
        "severe_absence_enrolments": severe,
        "severe_absence_rate": truth._rate(severe, enrolments),
    }


def expected_attendance_by_characteristic(
    la: SyntheticLA, last_day_index: int
) -> dict[tuple, dict]:
    """Keyed by (level, area, academic_year, characteristic, group_value)."""
    la_code = {school.urn: school.la_code for school in la.schools}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for (urn, _upn, year), row in truth.expected_pupil_attendance(la, last_day_index).items():
        for characteristic in CHARACTERISTICS:
            group = (year, characteristic, group_of(row, characteristic))
            for level, area in (("school", urn), ("la", la_code[urn])):
                groups[(level, area, *group)].append(row)
    return {key: {**measures(rows), "suppressed": False} for key, rows in groups.items()}
