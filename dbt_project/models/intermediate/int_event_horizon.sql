-- The latest transaction time of any event the build reflects: every mart's as_of.
with

mark_events as (

    select transaction_time from {{ ref('stg_register__mark_events') }}

),

pupil_events as (

    select transaction_time from {{ ref('stg_register__pupil_events') }}

),

school_events as (

    select transaction_time from {{ ref('stg_register__school_events') }}

),

-- Each stream's maximum on its own: DuckDB answers a column's maximum from its row groups'
-- statistics, where the maximum over the union read every stored event's transaction time.
final as (

    select
        greatest(
            (select max(mark_events.transaction_time) from mark_events),
            (select max(pupil_events.transaction_time) from pupil_events),
            (select max(school_events.transaction_time) from school_events)
        ) as as_of

)

select * from final
