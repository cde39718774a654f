{{
    config(
        materialized='incremental',
        unique_key=['urn', 'upn', 'academic_year', 'week_start'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ empty_if_built_with_another_cutoff() }}"
    )
}}

-- One row per enrolment, academic year and week (Monday to Sunday) with marks: the week's
-- sessions by category, and its illness (I) sessions. The year-to-date marts add up these
-- rows instead of every session of the year: a tenth as many rows late in the year.
--
-- Incremental: a week's counts depend only on that enrolment's sessions of that week, so a
-- build recomputes the weeks with sessions rewritten since its previous build
-- (macros/recomputed_sessions.sql) and replaces their rows. Every session counts, possible
-- or not, so that every such week has a row to replace the old one (sessions are never
-- removed from fct_sessions by an incremental build). Another cut-off empties the table
-- first.
with

-- Not materialized: read three times (DuckDB would otherwise copy every session once), and
-- each read needs only a few of its columns.
sessions as not materialized (

    select
        *,
        cast(date_trunc('week', session_date) as date) as week_start
    from {{ ref('fct_sessions') }}

),

sessions_stamp as (

    {{ latest_sessions_stamp('sessions') }}

),

{{ recomputed_sessions_ctes(['urn', 'upn', 'academic_year', 'week_start'], 'week_start') }}

weekly as (

    select
        urn,
        upn,
        academic_year,
        week_start,
        count(*) filter (where category = 'present') as present_sessions,
        count(*) filter (where category = 'aea') as aea_sessions,
        count(*) filter (where category = 'authorised') as authorised_absence_sessions,
        count(*) filter (where category = 'unauthorised') as unauthorised_absence_sessions,
        -- `I` is illness in the 2024 and the pre-2024 code sets alike.
        count(*) filter (where code = 'I') as illness_sessions
    from recomputed_sessions
    group by urn, upn, academic_year, week_start

),

final as (

    select
        weekly.urn,
        weekly.upn,
        weekly.academic_year,
        weekly.week_start,
        cast(weekly.present_sessions as integer) as present_sessions,
        cast(weekly.aea_sessions as integer) as aea_sessions,
        cast(weekly.authorised_absence_sessions as integer) as authorised_absence_sessions,
        cast(weekly.unauthorised_absence_sessions as integer)
            as unauthorised_absence_sessions,
        cast(weekly.illness_sessions as integer) as illness_sessions,
        sessions_stamp.sessions_loaded_through,
        sessions_stamp.sessions_events_loaded,
        {{ build_cutoff() }} as built_cutoff
    from weekly
    cross join sessions_stamp

)

select * from final
