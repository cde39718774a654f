with

source as (

    select * from {{ source('register', 'school_events') }}

),

known_by_cutoff as (

    select
        event_id,
        event_type,
        urn,
        la_code,
        school_name,
        phase,
        transaction_time,
        extracted_at,
        ingested_at,
        source_line
    from source
    where {{ known_by_cutoff() }}

)

select * from known_by_cutoff
