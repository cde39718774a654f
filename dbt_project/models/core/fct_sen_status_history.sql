-- Each enrolment's SEN status (provision and primary need) through valid time, from the pupil
-- events known by the cut-off: one row per period in which the status stayed the same.
--
-- A pupils row states the status as known when it was extracted, valid from its valid_from
-- (effective_date when sent, else the extract's date) until further notice. So a later event
-- restates the status from its own valid_from onwards: it supersedes every earlier event that
-- applied from that date or later (a correction, or a backdated change).
with

pupil_events as (

    select * from {{ ref('stg_register__pupil_events') }}

),

restated as (

    select
        urn,
        upn,
        valid_from,
        sen_provision,
        sen_primary_need,
        transaction_time,
        min(valid_from) over (
            partition by urn, upn
            order by transaction_time, extracted_at, ingested_at, source_line, event_id
            rows between 1 following and unbounded following
        ) as restated_from
    from pupil_events

),

surviving as (

    select * from restated
    where restated_from is null or valid_from < restated_from

),

compared as (

    select
        *,
        row_number() over by_valid_time as status_number,
        lag(sen_provision) over by_valid_time as previous_provision,
        lag(sen_primary_need) over by_valid_time as previous_need
    from surviving
    window by_valid_time as (partition by urn, upn order by valid_from)

),

status_changes as (

    select * from compared
    where
        status_number = 1
        or sen_provision is distinct from previous_provision
        or sen_primary_need is distinct from previous_need

),

final as (

    select
        urn,
        upn,
        sen_provision,
        sen_primary_need,
        valid_from,
        lead(valid_from) over by_valid_time as valid_to,
        row_number() over by_valid_time = 1 as is_first,
        lead(valid_from) over by_valid_time is null as is_current,
        transaction_time as recorded_at
    from status_changes
    window by_valid_time as (partition by urn, upn order by valid_from)

)

select * from final
