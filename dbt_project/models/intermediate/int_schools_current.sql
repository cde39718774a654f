-- Each school's reference data as last reported by the cut-off.
with

school_events as (

    select * from {{ ref('stg_register__school_events') }}

),

final as (

    select
        urn,
        la_code,
        school_name,
        phase,
        transaction_time
    from school_events
    qualify row_number() over (
        partition by urn
        order by transaction_time desc, extracted_at desc, ingested_at desc, source_line desc
    ) = 1

)

select * from final
