"""The register day's action list and education away from school, as CSV for the hub.

- `action_list.csv`: pupils_for_support sorted by priority (1 = act first) within each
  academic year, newest year first; why each pupil is listed in words (reasons.py), the
  absence rate as a percentage with one decimal, and `new` in `new_since_last_publication`
  for a pupil not on the previous publication's list or with a flag gained since it.
- `offsite_provision.csv`: per school and academic year, sessions of `K` (education
  arranged by the LA) and `B` (another approved activity) year to date, from
  school_daily_reasons, and the pupils on a part-time timetable (pupils_for_support).

Restricted: the action list names pupils by UPN, and the school counts are not suppressed.
"""

import csv
from pathlib import Path
from typing import Any

import duckdb

from serving.action_list.reasons import percent, reasons_text

ACTION_LIST = "action_list.csv"
OFFSITE = "offsite_provision.csv"
ACTION_LIST_SOURCES = ("pupils_for_support",)
OFFSITE_SOURCES = ("school_daily_reasons", "pupils_for_support", "schools")

ACTION_LIST_COLUMNS = (
    "priority",
    "new_since_last_publication",
    "reasons",
    "school_name",
    "urn",
    "upn",
    "ncy",
    "sen_provision",
    "absence_rate",
    "possible_sessions",
    "illness_sessions",
    "max_unauthorised_in_10_school_weeks",
    "unresolved_n_sessions",
    "oldest_unresolved_n_date",
    "academic_year",
)
OFFSITE_QUERY = """
with offsite as (
    select
        urn,
        academic_year,
        sum(sessions) filter (where register_code = 'K') as k_sessions,
        sum(sessions) filter (where register_code = 'B') as b_sessions
    from school_daily_reasons
    where register_code in ('K', 'B')
    group by urn, academic_year
),
part_time as (
    select urn, academic_year, count(*) as pupils
    from pupils_for_support
    where part_time_timetable
    group by urn, academic_year
),
areas as (
    select urn, academic_year from offsite
    union
    select urn, academic_year from part_time
)
select
    areas.urn,
    schools.school_name,
    areas.academic_year,
    cast(coalesce(offsite.k_sessions, 0) as integer) as k_sessions,
    cast(coalesce(offsite.b_sessions, 0) as integer) as b_sessions,
    cast(coalesce(part_time.pupils, 0) as integer) as part_time_timetable_pupils
from areas
left join offsite using (urn, academic_year)
left join part_time using (urn, academic_year)
left join schools using (urn)
order by areas.academic_year desc, areas.urn
"""


def _dicts(con: duckdb.DuckDBPyConnection, query: str) -> list[dict[str, Any]]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def action_list_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The action list as the officer reads it, in priority order."""
    listed = _dicts(
        con, "select * from pupils_for_support order by academic_year desc, priority, urn, upn"
    )
    return [
        {
            **{c: row.get(c) for c in ACTION_LIST_COLUMNS},
            "new_since_last_publication": "new" if row["newly_listed"] else "",
            "reasons": reasons_text(row),
            "absence_rate": percent(row["overall_absence_rate"]),
        }
        for row in listed
    ]


def offsite_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per school and academic year: K and B sessions, part-time timetables."""
    return _dicts(con, OFFSITE_QUERY)


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> int:
    """`rows` under a header of `columns`; None is an empty cell. Returns the rows written."""
    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    return len(rows)


OFFSITE_COLUMNS = (
    "urn",
    "school_name",
    "academic_year",
    "k_sessions",
    "b_sessions",
    "part_time_timetable_pupils",
)
