-- One row per school and open day: a day on which the school had at least one open session
-- (a session at which some pupil has a taken mark other than `#`). Weekends, holidays and
-- planned closures are not school days. Numbers the days, and the school weeks of each
-- academic year (Monday-to-Sunday weeks with at least one open session).
with

school_dates as (

    select * from {{ ref('fct_school_daily_counts') }}

),

open_days as (

    -- The dates with marks on which the school held a session (open_sessions counts the
    -- sessions some mark other than `#` opens), kept up to date incrementally.
    select
        urn,
        session_date,
        academic_year,
        open_sessions
    from school_dates
    where open_sessions > 0

),

numbered as (

    select
        urn,
        session_date,
        academic_year,
        open_sessions,
        cast(date_trunc('week', session_date) as date) as week_start,
        row_number() over (partition by urn order by session_date) as school_day_number,
        dense_rank() over (
            partition by urn, academic_year
            order by date_trunc('week', session_date)
        ) as school_week_number
    from open_days

),

final as (

    select
        urn,
        session_date,
        academic_year,
        cast(open_sessions as integer) as open_sessions,
        week_start,
        cast(school_day_number as integer) as school_day_number,
        cast(school_week_number as integer) as school_week_number,
        cast(max(school_day_number) over (partition by urn) as integer)
            as latest_school_day_number
    from numbered

)

select * from final
