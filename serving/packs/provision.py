"""Part-time timetables and education away from school at one school: sessions coded `C2`
(authorised absence on a part-time timetable), `K` (attending provision the LA arranged) and
`B` (educated off site), from the restricted mart `school_daily_reasons` (true counts)."""

from dataclasses import dataclass

import duckdb

# The codes the statutory guidance asks a school and the LA to review at the meeting: a
# part-time timetable must be time-limited, and off-site provision checked.
CODES = {
    "C2": "Part-time timetable (C2, authorised absence)",
    "K": "Provision arranged by the LA (K)",
    "B": "Educated off site (B)",
}


@dataclass(frozen=True)
class CodeSessions:
    code: str
    label: str
    sessions: int
    days: int  # school days with at least one such session


def provision(con: duckdb.DuckDBPyConnection, urn: str) -> tuple[CodeSessions, ...]:
    """Sessions and school days with each of CODES this academic year, zero when none."""
    found = {
        code: (int(sessions), int(days))
        for code, sessions, days in con.execute(
            "select register_code, sum(sessions), count(distinct session_date)"
            " from school_daily_reasons where urn = ? and list_contains(?, register_code)"
            " and academic_year = (select max(academic_year) from school_daily_reasons)"
            " group by register_code",
            [urn, list(CODES)],
        ).fetchall()
    }
    return tuple(
        CodeSessions(code, label, *found.get(code, (0, 0))) for code, label in CODES.items()
    )
