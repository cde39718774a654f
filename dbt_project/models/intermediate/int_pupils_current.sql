-- Each enrolment's characteristics as last reported by the cut-off.
with

pupil_events as (

    select * from {{ ref('stg_register__pupil_events') }}

),

final as (

    select
        urn,
        upn,
        sen_provision,
        sen_primary_need,
        admission_date,
        leaving_date,
        transaction_time
    from pupil_events
    qualify row_number() over (
        partition by urn, upn
        order by transaction_time desc, extracted_at desc, ingested_at desc, source_line desc
    ) = 1

)

select * from final
