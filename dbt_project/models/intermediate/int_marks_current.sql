-- The register as it stands at the cut-off: one row per enrolment and session, the mark with
-- the latest transaction time winning (an equal-time tie goes to the later extract).
with

mark_events as (

    select * from {{ ref('stg_register__mark_events') }}

),

register_codes as (

    select * from {{ ref('register_codes') }}

),

latest as (

    select *
    from mark_events
    qualify row_number() over (
        partition by urn, upn, session_date, session
        order by transaction_time desc, extracted_at desc, ingested_at desc, source_line desc
    ) = 1

),

categorised as (

    select
        latest.urn,
        latest.upn,
        latest.academic_year,
        latest.session_date,
        latest.session,
        latest.code,
        latest.minutes_late,
        latest.transaction_time,
        coalesce(register_codes.category, 'not_taken') as category,
        coalesce(
            register_codes.category in ('present', 'aea', 'authorised', 'unauthorised'),
            false
        ) as is_possible
    from latest
    left join register_codes
        on
            latest.code_set = register_codes.code_set
            and latest.code = register_codes.code

)

select * from categorised
