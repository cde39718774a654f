"""What one school's targeting meeting pack must show, computed from the generator's record.

Built on the record's own truths (tests/support/truth.py, truth_reports.py) and the marks
themselves, never on serving/packs: which list each listed pupil is in, why (as flag names),
the N codes left unresolved, the C2, K and B sessions, and the school's headline figures.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from synthetic import SyntheticLA
from tests.support import truth

PROVISION_CODES = ("C2", "K", "B")


@dataclass(frozen=True)
class PackPupil:
    upn: str
    listed_in: str  # "severe", "persistent" or "other"
    ncy: str
    sen_provision: str
    possible_sessions: int
    absence_percent: str  # one decimal, as an officer reads it
    reasons: tuple[str, ...]  # flag names, each said once
    unresolved_n_sessions: int
    oldest_unresolved_n_date: date | None


# The order the pack gives the reasons in, and what one reason already says of another.
REASON_ORDER = (
    "severe_absence",
    "illness_15_days",
    "support_first",
    "penalty_threshold",
    "persistent_absence",
    "unresolved_n",
)
IMPLIED = {"support_first": "penalty_threshold", "severe_absence": "persistent_absence"}


def latest_year(la: SyntheticLA, last_day_index: int) -> str:
    return truth.academic_year(la.days[last_day_index])


def pack_pupils(la: SyntheticLA, last_day_index: int, urn: str) -> dict[str, PackPupil]:
    """UPN -> what the pack says of each enrolment of `urn` on the action list this year."""
    year = latest_year(la, last_day_index)
    attendance = truth.expected_pupil_attendance(la, last_day_index)
    found = {}
    for (school, upn, row_year), row in truth.expected_pupils_for_support(
        la, last_day_index
    ).items():
        if school != urn or row_year != year:
            continue
        on = {flag for flag in REASON_ORDER if row[flag]}
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
            ncy=attendance[(school, upn, row_year)]["ncy"],
            sen_provision=row["sen_provision"],
            possible_sessions=row["possible_sessions"],
            absence_percent=f"{row['overall_absence_rate'] * 100:.1f}%",
            reasons=tuple(flag for flag in REASON_ORDER if flag in on),
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
