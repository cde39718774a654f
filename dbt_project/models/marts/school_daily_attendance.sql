-- One row per school and school day (a day with at least one open session): the day's
-- sessions by category, counting only pupils expected that day (those with a possible
-- session). A day with 1 to 4 pupils expected is withheld whole (docs/models.md,
-- "Suppression").
with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

school_days as (

    select * from {{ ref('dim_school_days') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

daily as (

    select
        urn,
        session_date,
        count(distinct upn) filter (where is_possible) as pupils_expected,
        count(*) filter (where is_possible) as possible_sessions,
        count(*) filter (where category = 'present') as present_sessions,
        count(*) filter (where category = 'aea') as aea_sessions,
        count(*) filter (where category = 'authorised') as authorised_absence_sessions,
        count(*) filter (where category = 'unauthorised') as unauthorised_absence_sessions
    from sessions
    group by urn, session_date

),

withheld as (

    select
        school_days.urn,
        school_days.session_date,
        school_days.academic_year,
        school_days.open_sessions,
        daily.pupils_expected,
        daily.possible_sessions,
        daily.present_sessions,
        daily.aea_sessions,
        daily.authorised_absence_sessions,
        daily.unauthorised_absence_sessions,
        {{ is_small_count('daily.pupils_expected') }} as day_withheld
    from school_days
    inner join daily
        on
            school_days.urn = daily.urn
            and school_days.session_date = daily.session_date

),

final as (

    select
        withheld.urn,
        withheld.session_date,
        withheld.academic_year,
        withheld.open_sessions,
        cast({{ unless_withheld('withheld.pupils_expected', 'withheld.day_withheld') }} as integer)
            as pupils_expected,
        cast(
            {{ unless_withheld('withheld.possible_sessions', 'withheld.day_withheld') }}
            as integer
        ) as possible_sessions,
        cast({{ unless_withheld('withheld.present_sessions', 'withheld.day_withheld') }} as integer)
            as present_sessions,
        cast({{ unless_withheld('withheld.aea_sessions', 'withheld.day_withheld') }} as integer)
            as aea_sessions,
        cast(
            {{ unless_withheld('withheld.authorised_absence_sessions', 'withheld.day_withheld') }}
            as integer
        ) as authorised_absence_sessions,
        cast(
            {{ unless_withheld('withheld.unauthorised_absence_sessions', 'withheld.day_withheld') }}
            as integer
        ) as unauthorised_absence_sessions,
        {{ unless_withheld(
            '(withheld.present_sessions + withheld.aea_sessions)'
            ~ ' / nullif(cast(withheld.possible_sessions as double), 0)',
            'withheld.day_withheld'
        ) }} as attendance_rate,
        withheld.day_withheld as suppressed,
        horizon.as_of
    from withheld
    cross join horizon

)

select * from final
