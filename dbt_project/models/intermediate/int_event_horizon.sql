-- The latest transaction time of any mark or pupil event the build reflects: every mart's
-- as_of. School reference rows carry no time of their own (their time is their extract
-- folder's stamp or, without one, the file's modification time: the clock of a copy), and
-- no figure of any mart is counted from them, so they never move it (docs/models.md).
with

mark_events as (

    select transaction_time from {{ ref('stg_register__mark_events') }}

),

pupil_events as (

    select transaction_time from {{ ref('stg_register__pupil_events') }}

),

-- Each stream's maximum on its own: DuckDB answers a column's maximum from its row groups'
-- statistics, where the maximum over the union read every stored event's transaction time.
final as (

    select
        greatest(
            (select max(mark_events.transaction_time) from mark_events),
            (select max(pupil_events.transaction_time) from pupil_events)
        ) as as_of

)

select * from final
