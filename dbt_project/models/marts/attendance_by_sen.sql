-- Attendance by SEN provision (the latest status of each enrolment), for wide sharing: one row
-- per (level, area, academic_year, sen_provision), where level is `school` (area = urn) or
-- `la` (area = the school's la_code). Counts of 1 to 4 people are withheld, with the rates
-- computed from them (docs/models.md, "Suppression").
with

enrolments as (

    select * from {{ ref('pupil_attendance') }}

),

schools as (

    select * from {{ ref('dim_schools') }}

),

provisions as (

    select * from {{ ref('sen_provision_codes') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

located as (

    {{ located_enrolments('enrolments', 'schools') }}

),

grouped as (

    select
        level,
        area,
        academic_year,
        sen_provision,
        {{ sen_aggregate_counts() }}
    from located
    group by level, area, academic_year, sen_provision

),

withheld as (

    select
        *,
        {{ sen_withheld_flags() }}
    from grouped

),

final as (

    select
        withheld.level,
        withheld.area,
        withheld.academic_year,
        withheld.sen_provision,
        provisions.description as sen_provision_description,
        {{ sen_published_measures('withheld') }},
        horizon.as_of
    from withheld
    left join provisions on withheld.sen_provision = provisions.code
    cross join horizon

)

select * from final
