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

    select
        -- `level` is a keyword, but it is the published column name (MARTS.md).
        'school' as level,  -- noqa: RF04
        enrolments.urn as area,
        enrolments.*
    from enrolments
    union all
    select
        'la' as level,  -- noqa: RF04
        schools.la_code as area,
        enrolments.*
    from enrolments
    inner join schools on enrolments.urn = schools.urn
    where schools.la_code is not null

),

grouped as (

    select
        level,
        area,
        academic_year,
        sen_provision,
        count(distinct urn) as schools,
        count(*) as enrolments,
        sum(possible_sessions) as possible_sessions,
        sum(authorised_absence_sessions + unauthorised_absence_sessions) as absence_sessions,
        count(*) filter (where is_persistent_absence) as persistent_absence_enrolments,
        count(*) filter (where is_severe_absence) as severe_absence_enrolments
    from located
    group by level, area, academic_year, sen_provision

),

withheld as (

    select
        *,
        {{ is_small_count('enrolments') }} as group_withheld,
        {{ is_small_count('enrolments') }}
        or {{ is_small_count('persistent_absence_enrolments') }} as persistent_withheld,
        {{ is_small_count('enrolments') }}
        or {{ is_small_count('severe_absence_enrolments') }} as severe_withheld
    from grouped

),

final as (

    select
        withheld.level,
        withheld.area,
        withheld.academic_year,
        withheld.sen_provision,
        provisions.description as sen_provision_description,
        cast(withheld.schools as integer) as schools,
        cast({{ unless_withheld('withheld.enrolments', 'withheld.group_withheld') }} as integer)
            as enrolments,
        cast(
            {{ unless_withheld('withheld.possible_sessions', 'withheld.group_withheld') }}
            as integer
        ) as possible_sessions,
        cast(
            {{ unless_withheld('withheld.absence_sessions', 'withheld.group_withheld') }}
            as integer
        ) as absence_sessions,
        {{ unless_withheld(
            'withheld.absence_sessions / cast(withheld.possible_sessions as double)',
            'withheld.group_withheld'
        ) }} as overall_absence_rate,
        cast({{ unless_withheld(
            'withheld.persistent_absence_enrolments', 'withheld.persistent_withheld'
        ) }} as integer) as persistent_absence_enrolments,
        {{ unless_withheld(
            'withheld.persistent_absence_enrolments / cast(withheld.enrolments as double)',
            'withheld.persistent_withheld'
        ) }} as persistent_absence_rate,
        cast({{ unless_withheld(
            'withheld.severe_absence_enrolments', 'withheld.severe_withheld'
        ) }} as integer) as severe_absence_enrolments,
        {{ unless_withheld(
            'withheld.severe_absence_enrolments / cast(withheld.enrolments as double)',
            'withheld.severe_withheld'
        ) }} as severe_absence_rate,
        withheld.group_withheld
        or withheld.persistent_withheld
        or withheld.severe_withheld as suppressed,
        horizon.as_of
    from withheld
    left join provisions on withheld.sen_provision = provisions.code
    cross join horizon

)

select * from final
