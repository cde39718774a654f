"""The days each school is expected open, learnt from its registers and the LA's term dates.

The rule (docs/usage.md, "School calendar"). A school is expected open on a day from its first
day in the data (its earliest marked session, else the day it was first seen) to the
register day when the day is a Monday to Friday and:

- with term dates for the school (rows of its URN, else of its LA): the day is within one of
  its terms;
- without them: the day is not within a closure its LA's registers reveal: a weekday between
  the LA's first and latest open day on which no school of the LA held an open session;

and, either way, the day is not a closure the file lists (for its URN or its LA), nor one its
own registers reveal: a day whose marks open no session (`#`), or a weekday between its own
first and latest open day without an open session. An open session is one at which some
mark other than `#` or blank was recorded. Every mark stored counts, also those of days after
the register day (a backfill, or a run on a folder of past extracts). Registers reveal a
holiday only once the school (or the LA) is back: until then every weekday counts, unless
term dates say otherwise.

The days are written to `ops.school_calendar` (one row per school and expected day, from the
earliest latest-extract day of any school up to the register day), which the
`school_feed_status` mart counts the age of a feed in. Only those days' sessions are read; a
school or LA seen before them is taken to have had open days before them.
"""

import os
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import duckdb
import pyarrow as pa

from ingestion.school_calendar.term_dates import TermRow
from warehouse.project import dbt_vars

STALE_AFTER_ENV = "ATTENDANCE_STALE_AFTER_SCHOOL_DAYS"

_TERM_SCHEMA = pa.schema(
    [
        ("area", pa.string()),
        ("kind", pa.string()),
        ("first_day", pa.date32()),
        ("last_day", pa.date32()),
    ]
)

_EXPECTED_DAYS = """
with
school_las as (
    select urn, arg_max(la_code, transaction_time) as la_code
    from events.school_events
    group by urn
),
marked as (
    select
        urn,
        session_date,
        bool_or(coalesce(code, '') not in ('', '#')) as is_open
    from events.mark_events
    -- Only the sessions the calendar is written for (DuckDB skips older row groups).
    where session_date >= $since
    group by urn, session_date
),
school_spans as (
    select
        urn,
        min(session_date) as first_marked,
        min(session_date) filter (where is_open) as first_open,
        max(session_date) filter (where is_open) as last_open
    from marked
    group by urn
),
la_open_days as (
    select distinct school_las.la_code, marked.session_date
    from marked
    inner join school_las on marked.urn = school_las.urn
    where marked.is_open
),
la_spans as (
    select la_code, min(session_date) as first_open, max(session_date) as last_open
    from la_open_days
    group by la_code
),
la_first_seen as (
    select school_las.la_code, min(known.first_seen) as first_seen
    from known_schools as known
    inner join school_las on known.urn = school_las.urn
    group by school_las.la_code
),
schools as (
    select
        known.urn,
        school_las.la_code,
        greatest(least(school_spans.first_marked, known.first_seen), $since) as first_day,
        -- A school (or LA) seen before the first day written had open days before it.
        case
            when known.first_seen < $since then date '0001-01-01' else school_spans.first_open
        end as first_open,
        school_spans.last_open,
        exists (
            select 1 from term_rows
            where term_rows.kind = 'term' and term_rows.area = known.urn
        ) as own_terms,
        exists (
            select 1 from term_rows
            where
                term_rows.kind = 'term'
                and (term_rows.area = known.urn or term_rows.area = school_las.la_code)
        ) as has_terms
    from known_schools as known
    left join school_las on known.urn = school_las.urn
    left join school_spans on known.urn = school_spans.urn
),
weekdays as (
    select schools.*, cast(d.day as date) as school_day
    from schools,
        unnest(generate_series(
            cast(schools.first_day as timestamp), cast($day as timestamp), interval 1 day
        )) as d (day)
    where isodow(d.day) <= 5
)
select weekdays.urn, weekdays.school_day
from weekdays
left join marked
    on weekdays.urn = marked.urn and weekdays.school_day = marked.session_date
left join la_spans on weekdays.la_code = la_spans.la_code
left join la_first_seen on weekdays.la_code = la_first_seen.la_code
where
    not coalesce(not marked.is_open, false)
    and not (
        weekdays.school_day between weekdays.first_open and weekdays.last_open
        and not coalesce(marked.is_open, false)
    )
    and not exists (
        select 1 from term_rows
        where
            term_rows.kind = 'closure'
            and term_rows.area in (weekdays.urn, weekdays.la_code)
            and weekdays.school_day between term_rows.first_day and term_rows.last_day
    )
    and case
        when weekdays.has_terms then exists (
            select 1 from term_rows
            where
                term_rows.kind = 'term'
                and term_rows.area = (
                    case when weekdays.own_terms then weekdays.urn else weekdays.la_code end
                )
                and weekdays.school_day between term_rows.first_day and term_rows.last_day
        )
        else not (
            weekdays.school_day between (
                case
                    when la_first_seen.first_seen < $since then date '0001-01-01'
                    else la_spans.first_open
                end
            ) and la_spans.last_open
            and not exists (
                select 1 from la_open_days
                where
                    la_open_days.la_code = weekdays.la_code
                    and la_open_days.session_date = weekdays.school_day
            )
        )
    end
order by weekdays.urn, weekdays.school_day
"""


def stale_after_school_days() -> int:
    """A feed whose latest extract is older than this many school days is stale (the
    setting, else the dbt var `stale_after_school_days`, the mart's own default)."""
    text = os.environ.get(STALE_AFTER_ENV, "").strip()
    if not text:
        return int(dbt_vars()["stale_after_school_days"])
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"{STALE_AFTER_ENV}={text!r}: give a whole number of school days, 1 or more"
        )
    return int(text)


def write_school_calendar(
    con: duckdb.DuckDBPyConnection,
    known_schools: dict[str, date],
    register_day: date,
    term_rows: Sequence[TermRow],
    since: date,
) -> dict[str, list[date]]:
    """Each known school's expected days from `since` up to `register_day` (`known_schools`:
    URN -> the day it was first seen), written to `ops.school_calendar` (the event store's
    table, ingestion/event_store.py) in place of the previous ones, and returned, oldest
    first. `since` is the earliest day any school's age is counted from (its latest
    extract's day): only sessions from then on are read, not the whole register history."""
    terms = pa.Table.from_pylist([vars(row) for row in term_rows], schema=_TERM_SCHEMA)
    known = pa.table(
        {
            "urn": pa.array(list(known_schools), pa.string()),
            "first_seen": pa.array(list(known_schools.values()), pa.date32()),
        }
    )
    con.register("term_rows", terms)
    con.register("known_schools", known)
    try:
        con.execute("begin")
        con.execute("delete from ops.school_calendar")
        con.execute(
            f"insert into ops.school_calendar {_EXPECTED_DAYS}",
            {"day": register_day, "since": since},
        )
        con.execute("commit")
        rows = con.execute(
            "select urn, school_day from ops.school_calendar order by urn, school_day"
        ).fetchall()
    finally:
        con.unregister("term_rows")
        con.unregister("known_schools")
    days: dict[str, list[date]] = defaultdict(list)
    for urn, day in rows:
        days[urn].append(day)
    return dict(days)


def school_days_between(days: Sequence[date], after: date | None, until: date) -> int:
    """How many of `days` fall after `after` (none: from the first) up to `until`."""
    return sum(1 for day in days if (after is None or day > after) and day <= until)
