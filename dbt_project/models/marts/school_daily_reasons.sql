-- One row per school, school day and register code of the possible sessions: how many
-- sessions carried that code. The source of the DfE-style daily extract (docs/bi.md). Not
-- suppressed, so it stays in the restricted tier; the extract is suppressed when it is made
-- (ingestion/dfe_extract.py). The counts are fct_school_daily_reason_counts (built
-- incrementally).
with

reason_counts as (

    select * from {{ ref('fct_school_daily_reason_counts') }}

),

school_days as (

    select * from {{ ref('dim_school_days') }}

),

reason_columns as (

    select * from {{ ref('dfe_reason_columns') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

counted as (

    select
        urn,
        session_date,
        register_code,
        category,
        sessions
    from reason_counts
    where is_possible

),

final as (

    select
        counted.urn,
        counted.session_date,
        school_days.academic_year,
        counted.register_code,
        counted.category,
        reason_columns.dfe_column,
        counted.sessions,
        horizon.as_of
    from counted
    inner join school_days
        on
            counted.urn = school_days.urn
            and counted.session_date = school_days.session_date
    left join reason_columns on counted.register_code = reason_columns.code
    cross join horizon

)

select * from final
