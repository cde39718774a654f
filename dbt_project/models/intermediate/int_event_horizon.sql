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

all_events as (

    select transaction_time from mark_events
    union all
    select transaction_time from pupil_events
    union all
    select transaction_time from school_events

),

horizon as (

    select max(transaction_time) as as_of from all_events

)

select * from horizon
