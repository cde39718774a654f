-- Attendance by SEN primary need, the sibling of attendance_by_sen: one row per (level, area,
-- academic_year, sen_provision, sen_primary_need) for enrolments whose latest status is SEN
-- support (K) or an EHC plan (E). Level, area and the suppression rule as in attendance_by_sen
-- (docs/models.md, "Suppression").
with

enrolments as (

    select * from {{ ref('pupil_attendance') }}
    where sen_provision in ('K', 'E')

),

schools as (

    select * from {{ ref('dim_schools') }}

),

provisions as (

    select * from {{ ref('sen_provision_codes') }}

),

needs as (

    select * from {{ ref('sen_need_codes') }}

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
        sen_primary_need,
        {{ sen_aggregate_counts() }}
    from located
    group by level, area, academic_year, sen_provision, sen_primary_need

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
        withheld.sen_primary_need,
        needs.description as sen_primary_need_description,
        {{ sen_published_measures('withheld') }},
        horizon.as_of
    from withheld
    left join provisions on withheld.sen_provision = provisions.code
    left join needs on withheld.sen_primary_need = needs.code
    cross join horizon

)

select * from final
