-- One row per school seen in the school events or the register: its reference data and the
-- latest session with marks (its latest open session), the horizon its episodes and
-- unresolved N marks are measured against.
with

schools as (

    select * from {{ ref('int_schools_current') }}

),

school_dates as (

    select * from {{ ref('fct_school_daily_counts') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

latest_open_days as (

    -- The dates on which some mark opens a session (open_sessions > 0): the latest open
    -- session is on the latest of them, so only that day's sessions are read, not the year's.
    select
        urn,
        max(session_date) as session_date
    from school_dates
    where open_sessions > 0
    group by urn

),

oldest_latest_day as (

    select min(session_date) as session_date from latest_open_days

),

latest_open_sessions as (

    select
        sessions.urn,
        max(sessions.session_key) as latest_open_session_key,
        arg_max(sessions.session_date, sessions.session_key) as latest_open_session_date,
        arg_max(sessions.session, sessions.session_key) as latest_open_session
    from sessions
    inner join latest_open_days
        on
            sessions.urn = latest_open_days.urn
            and sessions.session_date = latest_open_days.session_date
    -- Implied by the join, but DuckDB then skips the row groups of older sessions (day 150
    -- of the bench: 0.6 to 1.0 s down to 0.02 s).
    where
        sessions.opens_school_session
        and sessions.session_date >= (
            select oldest_latest_day.session_date from oldest_latest_day
        )
    group by sessions.urn

),

all_schools as (

    select urn from schools
    union
    select urn from latest_open_sessions

),

final as (

    select
        all_schools.urn,
        schools.la_code,
        schools.school_name,
        schools.phase,
        latest_open_sessions.latest_open_session_date,
        latest_open_sessions.latest_open_session,
        latest_open_sessions.latest_open_session_key
    from all_schools
    left join schools on all_schools.urn = schools.urn
    left join latest_open_sessions on all_schools.urn = latest_open_sessions.urn

)

select * from final
