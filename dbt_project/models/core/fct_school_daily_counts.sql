{{
    config(
        materialized='incremental',
        unique_key=['urn', 'session_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ empty_if_built_with_another_cutoff() }}"
    )
}}

-- One row per school and date with marks: the day's sessions by category, counting only
-- pupils expected that day (those with a possible session), and the sessions the school
-- held (0 when no mark opens a session: not a school day). school_daily_attendance keeps
-- the school days and withholds small counts.
--
-- Incremental: a day's figures depend only on that school's sessions of that day, so a
-- build recomputes the (school, date) pairs with sessions rewritten since its previous
-- build (macros/recomputed_sessions.sql) and replaces their rows. Sessions are never removed
-- from fct_sessions by an incremental build, so every such pair has a row to replace the
-- old one. Another cut-off empties the table first.
with

-- Not materialized: read three times (DuckDB would otherwise copy every session once), and
-- each read needs only a few of its columns.
sessions as not materialized (

    select * from {{ ref('fct_sessions') }}

),

sessions_stamp as (

    {{ latest_sessions_stamp('sessions') }}

),

{{ recomputed_sessions_ctes(['urn', 'session_date'], 'session_date') }}

daily as (

    select
        urn,
        session_date,
        -- A function of the date: every session of the day has the same.
        min(academic_year) as academic_year,
        count(distinct session) filter (where opens_school_session) as open_sessions,
        count(distinct upn) filter (where is_possible) as pupils_expected,
        count(*) filter (where is_possible) as possible_sessions,
        count(*) filter (where category = 'present') as present_sessions,
        count(*) filter (where category = 'aea') as aea_sessions,
        count(*) filter (where category = 'authorised') as authorised_absence_sessions,
        count(*) filter (where category = 'unauthorised') as unauthorised_absence_sessions
    from recomputed_sessions
    group by urn, session_date

),

final as (

    select
        daily.urn,
        daily.session_date,
        daily.academic_year,
        cast(daily.open_sessions as integer) as open_sessions,
        daily.pupils_expected,
        daily.possible_sessions,
        daily.present_sessions,
        daily.aea_sessions,
        daily.authorised_absence_sessions,
        daily.unauthorised_absence_sessions,
        sessions_stamp.sessions_loaded_through,
        sessions_stamp.sessions_events_loaded,
        {{ build_cutoff() }} as built_cutoff
    from daily
    cross join sessions_stamp

)

select * from final
