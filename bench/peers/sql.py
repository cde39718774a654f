"""Bare DuckDB, the lower bound of the peers: the two marts as one SQL query each over the
Parquet export, no framework. The PostgreSQL peer runs the same SQL (`bench.peers.postgres`)."""

from pathlib import Path

from bench.peers import CODE_SET_2024_FROM
from warehouse.project import suppress_counts_below

PUPIL_ATTENDANCE = """
with current_marks as (
    select urn, upn, session_date, code,
        case when session_date >= date '{code_set_from}' then '2024' else 'pre2024' end
            as code_set
    from (
        select *, row_number() over (
            partition by urn, upn, session_date, session
            order by transaction_time desc, extracted_at desc, ingested_at desc,
                source_line desc
        ) as newest
        from {marks}
    ) as m
    where newest = 1
),
categorised as (
    select m.urn, m.upn,
        case when extract(month from m.session_date) >= 9
            then extract(year from m.session_date)
            else extract(year from m.session_date) - 1 end as start_year,
        c.category
    from current_marks as m
    left join {codes} as c on c.code_set = m.code_set and c.code = m.code
),
counted as (
    select urn, upn, cast(start_year as integer) as start_year,
        count(*) filter (where category = 'present') as present_sessions,
        count(*) filter (where category = 'aea') as aea_sessions,
        count(*) filter (where category = 'authorised') as authorised_absence_sessions,
        count(*) filter (where category = 'unauthorised') as unauthorised_absence_sessions
    from categorised
    group by urn, upn, start_year
),
pupils as (
    select urn, upn, sen_provision, sen_primary_need from (
        select *, row_number() over (
            partition by urn, upn
            order by transaction_time desc, extracted_at desc, ingested_at desc,
                source_line desc
        ) as newest
        from {pupils}
    ) as p
    where newest = 1
),
measured as (
    select *,
        present_sessions + aea_sessions + authorised_absence_sessions
            + unauthorised_absence_sessions as possible_sessions,
        authorised_absence_sessions + unauthorised_absence_sessions as absence_sessions
    from counted
)
select m.urn, m.upn,
    cast(m.start_year as varchar) || '/' || right(cast(m.start_year + 1 as varchar), 2)
        as academic_year,
    cast(m.possible_sessions as integer) as possible_sessions,
    cast(m.present_sessions as integer) as present_sessions,
    cast(m.aea_sessions as integer) as aea_sessions,
    cast(m.authorised_absence_sessions as integer) as authorised_absence_sessions,
    cast(m.unauthorised_absence_sessions as integer) as unauthorised_absence_sessions,
    m.absence_sessions * 10 >= m.possible_sessions as is_persistent_absence,
    m.absence_sessions * 2 >= m.possible_sessions as is_severe_absence,
    p.sen_provision, p.sen_primary_need
from measured as m
left join pupils as p on p.urn = m.urn and p.upn = m.upn
where m.possible_sessions > 0
"""

BY_SEN = """
with schools as (
    select urn, la_code from (
        select *, row_number() over (
            partition by urn order by transaction_time desc, extracted_at desc,
                ingested_at desc, source_line desc
        ) as newest
        from {schools}
    ) as s
    where newest = 1
),
located as (
    select 'school' as level, urn as area, e.* from {enrolments} as e
    union all
    select 'la' as level, s.la_code as area, e.*
    from {enrolments} as e inner join schools as s on s.urn = e.urn
    where s.la_code is not null
),
grouped as (
    select level, area, academic_year, sen_provision,
        count(distinct urn) as schools,
        count(*) as enrolments,
        sum(possible_sessions) as possible_sessions,
        sum(authorised_absence_sessions + unauthorised_absence_sessions) as absence_sessions,
        sum(case when is_persistent_absence then 1 else 0 end) as persistent,
        sum(case when is_severe_absence then 1 else 0 end) as severe
    from located
    group by level, area, academic_year, sen_provision
),
withheld as (
    select *,
        enrolments between 1 and {small} as group_withheld,
        enrolments between 1 and {small} or persistent between 1 and {small}
            as persistent_withheld,
        enrolments between 1 and {small} or severe between 1 and {small} as severe_withheld
    from grouped
)
select level, area, academic_year, sen_provision,
    cast(schools as integer) as schools,
    cast(case when group_withheld then null else enrolments end as integer) as enrolments,
    cast(case when group_withheld then null else possible_sessions end as integer)
        as possible_sessions,
    cast(case when group_withheld then null else absence_sessions end as integer)
        as absence_sessions,
    cast(case when persistent_withheld then null else persistent end as integer)
        as persistent_absence_enrolments,
    cast(case when severe_withheld then null else severe end as integer)
        as severe_absence_enrolments,
    group_withheld or persistent_withheld or severe_withheld as suppressed
from withheld
"""


def mart_sql(template: str, **tables: str) -> str:
    """`template` (PUPIL_ATTENDANCE or BY_SEN) reading the given tables, with the rules'
    numbers filled in: the same text for DuckDB and PostgreSQL."""
    # `between 1 and {small}` is inclusive: the largest count withheld.
    return template.format(
        code_set_from=CODE_SET_2024_FROM, small=suppress_counts_below() - 1, **tables
    )


def run_duckdb(source: Path, out: Path) -> None:
    """The bare DuckDB lower bound: the one query over the Parquet files, no framework."""
    import duckdb

    con = duckdb.connect()
    names = {
        "marks": f"read_parquet('{source / 'mark_events.parquet'}')",
        "pupils": f"read_parquet('{source / 'pupil_events.parquet'}')",
        "codes": f"read_csv('{source / 'register_codes.csv'}', all_varchar = true)",
    }
    con.execute(f"create temp table enrolments as {mart_sql(PUPIL_ATTENDANCE, **names)}")
    con.execute(f"copy enrolments to '{out / 'pupil_attendance.parquet'}'")
    schools = f"read_parquet('{source / 'school_events.parquet'}')"
    by_sen = mart_sql(BY_SEN, schools=schools, enrolments="enrolments")
    con.execute(f"copy ({by_sen}) to '{out / 'attendance_by_sen.parquet'}'")
