with

source as (

    select * from {{ source('register', 'pupil_events') }}

),

known_by_cutoff as (

    select
        event_id,
        event_type,
        urn,
        upn,
        valid_from,
        date_of_birth,
        sex,
        ncy,
        admission_date,
        leaving_date,
        sen_provision,
        sen_primary_need,
        fsm_eligible,
        looked_after,
        child_in_need,
        child_protection_plan,
        transaction_time,
        extracted_at,
        ingested_at,
        source_line
    from source
    where {{ known_by_cutoff() }}

)

select * from known_by_cutoff
