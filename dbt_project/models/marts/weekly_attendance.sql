-- Attendance by school week, for the school, the LA and the targeting meetings: one row per
-- (level, area, academic_year, week_start), level `school` (area = urn) or `la` (area = the
-- school's la_code). True counts: restricted tier (docs/models.md, "weekly_attendance"),
-- because a week's sums would give back the days school_daily_attendance withholds.
-- Built from fct_school_daily_counts (one row per school and date, incremental) rather
-- than the sessions, so that it stays cheap at 250,000 pupils.
with

daily as (

    select * from {{ ref('fct_school_daily_counts') }}

),

schools as (

    select * from {{ ref('dim_schools') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

school_days as (

    select
        daily.urn,
        schools.la_code,
        daily.academic_year,
        cast(date_trunc('week', daily.session_date) as date) as week_start,
        daily.possible_sessions,
        daily.present_sessions,
        daily.aea_sessions,
        daily.authorised_absence_sessions,
        daily.unauthorised_absence_sessions
    from daily
    left join schools on daily.urn = schools.urn
    -- A date with marks but no open session (a closure, `#` for all) is not a school day.
    where daily.open_sessions > 0

),

located as (

    select
        'school' as level,  -- noqa: RF04
        urn as area,
        *
    from school_days
    union all
    select
        'la' as level,  -- noqa: RF04
        la_code as area,
        *
    from school_days
    where la_code is not null

),

weekly as (

    select
        level,
        area,
        academic_year,
        week_start,
        sum(possible_sessions) as possible_sessions,
        sum(present_sessions) as present_sessions,
        sum(aea_sessions) as aea_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions
    from located
    group by level, area, academic_year, week_start

),

year_to_date as (

    select
        *,
        dense_rank() over by_year as school_week,
        sum(present_sessions + aea_sessions) over to_date as ytd_attended_sessions,
        sum(possible_sessions) over to_date as ytd_possible_sessions,
        {{ previous_academic_year('academic_year') }} as previous_academic_year
    from weekly
    window
        by_year as (partition by level, area, academic_year order by week_start),
        to_date as (
            partition by level, area, academic_year order by week_start
            rows between unbounded preceding and current row
        )

),

rated as (

    select
        *,
        (present_sessions + aea_sessions) / nullif(cast(possible_sessions as double), 0)
            as attendance_rate,
        ytd_attended_sessions / nullif(cast(ytd_possible_sessions as double), 0)
            as ytd_attendance_rate
    from year_to_date

),

final as (

    select
        this_year.level,
        this_year.area,
        this_year.academic_year,
        this_year.week_start,
        cast(this_year.school_week as integer) as school_week,
        cast(this_year.possible_sessions as integer) as possible_sessions,
        cast(this_year.present_sessions as integer) as present_sessions,
        cast(this_year.aea_sessions as integer) as aea_sessions,
        cast(this_year.authorised_absence_sessions as integer) as authorised_absence_sessions,
        cast(this_year.unauthorised_absence_sessions as integer)
            as unauthorised_absence_sessions,
        this_year.attendance_rate,
        this_year.ytd_attendance_rate,
        -- The same school week (by number) of the previous academic year, where held.
        last_year.week_start as last_year_week_start,
        last_year.attendance_rate as last_year_attendance_rate,
        last_year.ytd_attendance_rate as last_year_ytd_attendance_rate,
        horizon.as_of
    from rated as this_year
    left join rated as last_year
        on
            this_year.level = last_year.level
            and this_year.area = last_year.area
            and this_year.previous_academic_year = last_year.academic_year
            and this_year.school_week = last_year.school_week
    cross join horizon

)

select * from final
