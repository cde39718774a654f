"""weekly_attendance as the generator's own record gives it (tests/dbt_project/test_marts_truth.py).

Worked from the marks the extracts delivered, not from the pipeline's tables: each school's
open days (truth/registers.py `calendar`), their possible sessions by category, added up
by Monday-to-Sunday week for each school and for the LA.
"""

from collections import Counter, defaultdict
from datetime import date, timedelta
from fractions import Fraction

from synthetic import SyntheticLA
from tests.support.truth.registers import POSSIBLE, academic_year, calendar, category

CATEGORIES = {
    "present": "present_sessions",
    "aea": "aea_sessions",
    "authorised": "authorised_absence_sessions",
    "unauthorised": "unauthorised_absence_sessions",
}


def _previous_year(year: str) -> str:
    start = int(year[:4]) - 1
    return f"{start}/{(start + 1) % 100:02d}"


def expected_weekly_attendance(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """Keyed by (level, area, academic_year, week_start)."""
    marks = la.marks_known_after(last_day_index)
    open_days = {urn: set(days) for urn, days in calendar(marks).days.items()}
    tallies: dict[tuple, Counter] = defaultdict(Counter)
    for (urn, _upn, day, _session), code in marks.items():
        if day not in open_days.get(urn, ()):
            continue
        monday = day - timedelta(days=day.weekday())
        for area in (("school", urn), ("la", la.config.la_code)):
            # Every open week has a row, even one with no possible session.
            tally = tallies[(*area, academic_year(day), monday)]
            if code in POSSIBLE:
                tally[category(code)] += 1
    by_year: dict[tuple, list[date]] = defaultdict(list)
    for level, area, year, monday in sorted(tallies):
        by_year[(level, area, year)].append(monday)
    expected: dict[tuple, dict] = {}
    for (level, area, year), mondays in by_year.items():
        attended = possible = 0
        for number, monday in enumerate(mondays, start=1):
            tally = tallies[(level, area, year, monday)]
            week_possible = sum(tally[c] for c in CATEGORIES)
            attended += tally["present"] + tally["aea"]
            possible += week_possible
            expected[(level, area, year, monday)] = {
                "school_week": number,
                "possible_sessions": week_possible,
                **{column: tally[c] for c, column in CATEGORIES.items()},
                "attendance_rate": (
                    float(Fraction(tally["present"] + tally["aea"], week_possible))
                    if week_possible
                    else None
                ),
                "ytd_attendance_rate": float(Fraction(attended, possible)) if possible else None,
            }
    for (level, area, year, _monday), row in expected.items():
        last_mondays = by_year.get((level, area, _previous_year(year)), [])
        held = row["school_week"] <= len(last_mondays)
        last = (
            expected[(level, area, _previous_year(year), last_mondays[row["school_week"] - 1])]
            if held
            else {}
        )
        row["last_year_week_start"] = last_mondays[row["school_week"] - 1] if held else None
        row["last_year_attendance_rate"] = last.get("attendance_rate")
        row["last_year_ytd_attendance_rate"] = last.get("ytd_attendance_rate")
    return expected
