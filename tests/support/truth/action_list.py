"""The action list (pupils_for_support, MARTS.md version 2) from the generator's record.

Computed again the plain way, independently of the SQL: every flag from the marks known
after the last delivered day, the ten school days of unauthorised absence as the longest
run of possible sessions coded G, N, O or U, the part-time timetable as a C2 in each of the
school's last school weeks, priority by sorting, newly_listed against the list of an earlier
day (None: the first publication, every row new).
"""

from collections import Counter, defaultdict
from datetime import date, timedelta

from synthetic import SyntheticLA
from tests.support.truth.registers import (
    POSSIBLE,
    UNAUTHORISED,
    academic_year,
    calendar,
    expected_pupil_attendance,
)

PART_TIME_WEEKS = 3
# The order of the flags: the first that applies decides the pupil's group (docs/models.md).
PRIORITY_ORDER = (
    "severe_absence",
    "illness_15_days",
    "unauthorised_10_school_days",
    "support_first",
    "penalty_threshold",
    "persistent_absence",
    "part_time_timetable",
    "unresolved_n",
)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def longest_unauthorised_runs(marks: dict) -> Counter:
    """(urn, upn, academic_year) -> the longest run of consecutive possible sessions all
    unauthorised (sessions not possible for the pupil skipped; a run ends with the year)."""
    by_enrolment: dict[tuple, list] = defaultdict(list)
    for (urn, upn, day, session), code in marks.items():
        if code in POSSIBLE:
            by_enrolment[(urn, upn)].append((day, session, code))
    longest: Counter = Counter()
    for (urn, upn), rows in by_enrolment.items():
        run, run_year = 0, None
        for day, _session, code in sorted(rows):
            year = academic_year(day)
            if year != run_year:
                run, run_year = 0, year
            run = run + 1 if code in UNAUTHORISED else 0
            key = (urn, upn, year)
            longest[key] = max(longest[key], run)
    return longest


def expected_offsite_counts(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """(urn, academic_year) -> K and B sessions year to date (schools with any)."""
    counts: dict[tuple, Counter] = defaultdict(Counter)
    for (urn, _upn, day, _session), code in la.marks_known_after(last_day_index).items():
        if code in ("K", "B"):
            counts[(urn, academic_year(day))][code] += 1
    return {key: {"k_sessions": row["K"], "b_sessions": row["B"]} for key, row in counts.items()}


def expected_pupils_for_support(
    la: SyntheticLA, last_day_index: int, previous: dict[tuple, dict] | None = None
) -> dict[tuple, dict]:
    """Keyed by (urn, upn, academic_year); only enrolments with at least one flag.
    `previous`: the list of the previous publication (this function's result for it)."""
    marks = la.marks_known_after(last_day_index)
    cal = calendar(marks)
    attendance = expected_pupil_attendance(la, last_day_index)
    illness: Counter = Counter()
    weekly: dict[tuple, Counter] = defaultdict(Counter)
    unresolved: dict[tuple, list[date]] = defaultdict(list)
    recent_weeks = {
        urn: set(sorted({_monday(d) for d in days}, reverse=True)[:PART_TIME_WEEKS])
        for urn, days in cal.days.items()
    }
    c2_weeks: dict[tuple, set] = defaultdict(set)
    for (urn, upn, day, _session), code in marks.items():
        key = (urn, upn, academic_year(day))
        if code == "I":
            illness[key] += 1
        if code in UNAUTHORISED:
            weekly[key][cal.week_number(urn, day)] += 1
        if code == "N" and len(cal.days[urn]) - cal.day_number(urn, day) > 5:
            unresolved[key].append(day)
        if code == "C2" and _monday(day) in recent_weeks.get(urn, set()):
            c2_weeks[key].add(_monday(day))
    runs = longest_unauthorised_runs(marks)
    school = {s.urn: s for s in la.schools}
    listed = {}
    for key, row in attendance.items():
        weeks = weekly.get(key, Counter())
        best = max((sum(weeks[w] for w in range(start, start + 10)) for start in weeks), default=0)
        flags = {
            "persistent_absence": row["is_persistent_absence"],
            "severe_absence": row["is_severe_absence"],
            "illness_15_days": illness[key] >= 30,
            "penalty_threshold": best >= 10,
            "unresolved_n": bool(unresolved.get(key)),
            "unauthorised_10_school_days": runs[key] >= 20,
            "part_time_timetable": len(c2_weeks[key]) >= PART_TIME_WEEKS,
        }
        if not any(flags.values()):
            continue
        flags["support_first"] = flags["penalty_threshold"] and row["sen_provision"] in ("K", "E")
        was = (previous or {}).get(key)
        listed[key] = {
            "sen_provision": row["sen_provision"],
            "sen_primary_need": row["sen_primary_need"],
            **flags,
            "possible_sessions": row["possible_sessions"],
            "overall_absence_rate": row["overall_absence_rate"],
            "illness_sessions": illness[key],
            "max_unauthorised_in_10_school_weeks": best,
            "unresolved_n_sessions": len(unresolved.get(key, [])),
            "oldest_unresolved_n_date": min(unresolved[key]) if unresolved.get(key) else None,
            "ncy": row["ncy"],
            "school_name": school[key[0]].name,
            "newly_listed": was is None or any(flags[f] and not was[f] for f in PRIORITY_ORDER),
        }
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for key in listed:
        groups[(school[key[0]].la_code, key[2])].append(key)
    for keys in groups.values():
        ordered = sorted(
            keys,
            key=lambda k: (
                next(i for i, f in enumerate(PRIORITY_ORDER) if listed[k][f]),
                -listed[k]["overall_absence_rate"],
                k[0],
                k[1],
            ),
        )
        for rank, key in enumerate(ordered, start=1):
            listed[key]["priority"] = rank
    return listed
