"""The figures an HTML report must show, computed from the generator's record.

Independent of the project's SQL and of serving/reports/figures.py: counted from the marks
the extracts delivered, or added up from the truths of tests/support/truth/registers.py, for any set
of schools (one school's report, or all the LA's). True counts: nothing is withheld.
"""

from collections import Counter, defaultdict
from datetime import date, timedelta

from synthetic import SyntheticLA
from tests.support.truth import action_list as truth_action_list
from tests.support.truth import registers as truth

# The lengths of absence episodes the reports group by: (shortest, longest) sessions.
EPISODE_LENGTHS = ((1, 1), (2, 3), (4, 9), (10, 19), (20, 10**9))
SUPPORT_FLAGS = (
    "persistent_absence",
    "severe_absence",
    "illness_15_days",
    "penalty_threshold",
    "unresolved_n",
    "support_first",
)


def weekly(la: SyntheticLA, last_day_index: int, urns: set[str]) -> dict[date, dict[str, int]]:
    """Monday of each week -> possible, attended (present and AEA) and absence sessions, on
    the school days of the schools in `urns`."""
    marks = la.marks_known_after(last_day_index)
    cal = truth.calendar(marks)
    weeks: dict[date, Counter] = defaultdict(Counter)
    for (urn, _upn, day, _session), code in marks.items():
        if urn not in urns or code not in truth.POSSIBLE or day not in cal.days[urn]:
            continue
        tally = weeks[day - timedelta(days=day.weekday())]
        tally["possible"] += 1
        tally["attended" if code in truth.PRESENT | truth.AEA else "absent"] += 1
    return {monday: dict(tally) for monday, tally in weeks.items()}


def absence_by_reason(la: SyntheticLA, last_day_index: int, urns: set[str]) -> dict[str, int]:
    """Register code -> sessions of absence (authorised or unauthorised) with it."""
    counts: Counter = Counter()
    for (urn, _day, code, category), row in truth.expected_school_daily_reasons(
        la, last_day_index
    ).items():
        if urn in urns and category in ("authorised", "unauthorised"):
            counts[code] += row["sessions"]
    return dict(counts)


def persistent_by_group(
    la: SyntheticLA, last_day_index: int, urns: set[str], by_need: bool
) -> dict[str | None, tuple[int, int]]:
    """SEN provision (or, for K and E, primary need) -> (enrolments, persistently absent)."""
    groups: dict[str | None, list[bool]] = defaultdict(list)
    for (urn, _upn, _year), row in truth.expected_pupil_attendance(la, last_day_index).items():
        if urn not in urns or (by_need and row["sen_provision"] not in ("K", "E")):
            continue
        group = row["sen_primary_need"] if by_need else row["sen_provision"]
        groups[group].append(row["is_persistent_absence"])
    return {group: (len(flags), sum(flags)) for group, flags in groups.items()}


def headline(
    la: SyntheticLA, last_day_index: int, urns: set[str], compulsory_only: bool = False
) -> dict[str, int]:
    """The headline counts of the schools `urns`: every pupil on roll, or (`compulsory_only`)
    those 5 to 15 on the 31 August before the year, by their generated date of birth."""
    enrolments = {(e.urn, e.upn): e for e in la.enrolments}
    rows = [
        row
        for (urn, upn, year), row in truth.expected_pupil_attendance(la, last_day_index).items()
        if urn in urns
        and (not compulsory_only or 5 <= age_on_31_august(enrolments[(urn, upn)], year) <= 15)
    ]
    return {
        "enrolments": len(rows),
        "possible": sum(r["possible_sessions"] for r in rows),
        "attended": sum(r["present_sessions"] + r["aea_sessions"] for r in rows),
        "persistent": sum(r["is_persistent_absence"] for r in rows),
        "severe": sum(r["is_severe_absence"] for r in rows),
    }


def age_on_31_august(e, year: str) -> int:
    """Age in whole years on the 31 August before the academic year `year` (like 2025/26)."""
    day = date(int(year[:4]), 8, 31)
    born = e.date_of_birth
    return day.year - born.year - ((born.month, born.day) > (day.month, day.day))


def episodes_by_length(la: SyntheticLA, last_day_index: int, urns: set[str]) -> list[int]:
    """Episodes in each of EPISODE_LENGTHS, in that order."""
    lengths = [
        row["sessions"]
        for (urn, *_), row in truth.expected_absence_episodes(la, last_day_index).items()
        if urn in urns
    ]
    return [sum(lo <= n <= hi for n in lengths) for lo, hi in EPISODE_LENGTHS]


def support_counts(la: SyntheticLA, last_day_index: int, urns: set[str]) -> list[int]:
    """Enrolments with each of SUPPORT_FLAGS, in that order."""
    rows = [
        row
        for (urn, *_), row in truth_action_list.expected_pupils_for_support(
            la, last_day_index
        ).items()
        if urn in urns
    ]
    return [sum(bool(row[flag]) for row in rows) for flag in SUPPORT_FLAGS]
