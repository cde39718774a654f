-- One row per school and school day (a day with at least one open session): the day's
-- sessions by category, counting only pupils expected that day (those with a possible
-- session). A day with 1 to 4 pupils expected is withheld whole (docs/models.md,
-- "Suppression"). The counts are fct_school_daily_counts (built incrementally); this keeps
-- the school days, withholds, and adds the horizon, which moves every morning.
with

daily as (

    select * from {{ ref('fct_school_daily_counts') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

withheld as (

    select
        urn,
        session_date,
        academic_year,
        open_sessions,
        pupils_expected,
        possible_sessions,
        present_sessions,
        aea_sessions,
        authorised_absence_sessions,
        unauthorised_absence_sessions,
        {{ is_small_count('pupils_expected') }} as day_withheld
    from daily
    -- A date with marks but no open session (a closure, `#` for all) is not a school day.
    where open_sessions > 0

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
