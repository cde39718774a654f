with

source as (

    select * from {{ source('register', 'mark_events') }}

),

known_by_cutoff as (

    select
        event_id,
        event_type,
        urn,
        upn,
        session_date,
        session,
        code,
        minutes_late,
        transaction_time,
        extracted_at,
        ingested_at,
        source_line,
        {{ academic_year('session_date') }} as academic_year,
        case
            when session_date >= date '2024-08-19' then '2024' else 'pre2024'
        end as code_set
    from source
    where {{ known_by_cutoff() }}

)

select * from known_by_cutoff
