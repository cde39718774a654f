-- Each enrolment's characteristics as last reported by the cut-off. The optional flags
-- (FSM, looked after, child in need, child protection plan) and the year group keep the
-- last value a school stated: an extract that leaves the column out says nothing new.
with

pupil_events as (

    select * from {{ ref('stg_register__pupil_events') }}

),

stated as (

    select
        urn,
        upn,
        sen_provision,
        sen_primary_need,
        admission_date,
        leaving_date,
        date_of_birth,
        transaction_time,
        extracted_at,
        ingested_at,
        source_line,
        last_value(ncy ignore nulls) over history as ncy,
        last_value(fsm_eligible ignore nulls) over history as fsm_eligible,
        last_value(looked_after ignore nulls) over history as looked_after,
        last_value(child_in_need ignore nulls) over history as child_in_need,
        last_value(child_protection_plan ignore nulls) over history as child_protection_plan
    from pupil_events
    window history as (
        partition by urn, upn
        order by transaction_time, extracted_at, ingested_at, source_line
        rows between unbounded preceding and unbounded following
    )

),

final as (

    select
        urn,
        upn,
        sen_provision,
        sen_primary_need,
        admission_date,
        leaving_date,
        date_of_birth,
        ncy,
        coalesce(fsm_eligible, false) as fsm_eligible,
        coalesce(looked_after, false) as looked_after,
        coalesce(child_in_need, false) as child_in_need,
        coalesce(child_protection_plan, false) as child_protection_plan,
        transaction_time
    from stated
    qualify row_number() over (
        partition by urn, upn
        order by transaction_time desc, extracted_at desc, ingested_at desc, source_line desc
    ) = 1

)

select * from final
