-- One row per enrolment and academic year, year to date, with the DfE measures:
-- possible = present + AEA + authorised + unauthorised; persistent absence at 10% or more of
-- possible sessions missed, severe at 50% or more. Enrolments with no possible session are out.
-- Characteristics are each enrolment's latest (int_pupils_current).
-- The sessions are counted week by week, incrementally, in fct_enrolment_weekly_counts.
with

weeks as (

    select * from {{ ref('fct_enrolment_weekly_counts') }}

),

pupils as (

    select * from {{ ref('int_pupils_current') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

sessions_by_enrolment as (

    select
        urn,
        upn,
        academic_year,
        sum(present_sessions) as present_sessions,
        sum(aea_sessions) as aea_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions
    from weeks
    group by urn, upn, academic_year

),

measured as (

    select
        *,
        present_sessions
        + aea_sessions
        + authorised_absence_sessions
        + unauthorised_absence_sessions as possible_sessions,
        authorised_absence_sessions + unauthorised_absence_sessions as absence_sessions
    from sessions_by_enrolment

),

final as (

    select
        measured.urn,
        measured.upn,
        measured.academic_year,
        cast(measured.possible_sessions as integer) as possible_sessions,
        cast(measured.present_sessions as integer) as present_sessions,
        cast(measured.aea_sessions as integer) as aea_sessions,
        cast(measured.authorised_absence_sessions as integer) as authorised_absence_sessions,
        cast(measured.unauthorised_absence_sessions as integer)
            as unauthorised_absence_sessions,
        (measured.present_sessions + measured.aea_sessions)
        / cast(measured.possible_sessions as double) as attendance_rate,
        measured.absence_sessions
        / cast(measured.possible_sessions as double) as overall_absence_rate,
        -- Integer comparisons: a rate of exactly 10% must count, whatever floating point does.
        measured.absence_sessions * 10 >= measured.possible_sessions as is_persistent_absence,
        measured.absence_sessions * 2 >= measured.possible_sessions as is_severe_absence,
        pupils.sen_provision,
        pupils.sen_primary_need,
        pupils.ncy,
        -- DfE's compulsory school age: 5 to 15 on the 31 August before the academic year.
        {{ age_on_31_august(
            'pupils.date_of_birth', 'measured.academic_year'
        ) }} between 5 and 15 as compulsory_school_age,
        pupils.fsm_eligible,
        pupils.looked_after,
        pupils.child_in_need,
        pupils.child_protection_plan,
        horizon.as_of
    from measured
    left join pupils
        on
            measured.urn = pupils.urn
            and measured.upn = pupils.upn
    cross join horizon
    where measured.possible_sessions > 0

)

select * from final
