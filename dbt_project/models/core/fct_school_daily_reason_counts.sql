{{
    config(
        materialized='incremental',
        unique_key=['urn', 'session_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ empty_if_built_with_another_cutoff() }}"
    )
}}

-- One row per school, date with marks, register code (its 2024 equivalent) and category:
-- how many sessions carried it. school_daily_reasons keeps the possible sessions of school
-- days.
--
-- Incremental, as fct_school_daily_counts: a build recomputes the (school, date) pairs with
-- sessions rewritten since its previous build (macros/recomputed_sessions.sql) and replaces
-- all their rows. Every session counts, possible or not, so that every such pair has a row
-- to replace the old ones, even a day left with no possible session. Another cut-off
-- empties the table first.
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

counted as (

    select
        urn,
        session_date,
        harmonised_code as register_code,
        category,
        -- A function of the category.
        bool_and(is_possible) as is_possible,
        count(*) as sessions
    from recomputed_sessions
    group by urn, session_date, harmonised_code, category

),

final as (

    select
        counted.urn,
        counted.session_date,
        counted.register_code,
        counted.category,
        counted.is_possible,
        cast(counted.sessions as integer) as sessions,
        sessions_stamp.sessions_loaded_through,
        sessions_stamp.sessions_events_loaded,
        {{ build_cutoff() }} as built_cutoff
    from counted
    cross join sessions_stamp

)

select * from final
