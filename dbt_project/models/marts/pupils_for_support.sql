-- The attendance hub's action list: one row per enrolment and academic year with at least
-- one flag (MARTS.md). Support comes first: support_first marks pupils with SEN who reach
-- the penalty-notice threshold. Illness and unauthorised sessions are counted week by week
-- (fct_enrolment_weekly_counts); unresolved N marks need each session's school day.
with

enrolments as (

    select * from {{ ref('pupil_attendance') }}

),

-- Not materialized: read twice, and DuckDB would otherwise copy every enrolment's weeks
-- (7.5 million rows at day 150) before either read.
weeks as not materialized (

    select * from {{ ref('fct_enrolment_weekly_counts') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

school_days as (

    select * from {{ ref('dim_school_days') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

illness as (

    select
        urn,
        upn,
        academic_year,
        sum(illness_sessions) as illness_sessions
    from weeks
    group by urn, upn, academic_year

),

school_weeks as (

    select distinct
        urn,
        academic_year,
        week_start,
        school_week_number
    from school_days

),

unauthorised_by_week as (

    -- A week with an unauthorised session is a school week: G, N, O and U open a session.
    select
        weeks.urn,
        weeks.upn,
        weeks.academic_year,
        school_weeks.school_week_number,
        weeks.unauthorised_absence_sessions as unauthorised_sessions
    from weeks
    inner join school_weeks
        on
            weeks.urn = school_weeks.urn
            and weeks.academic_year = school_weeks.academic_year
            and weeks.week_start = school_weeks.week_start
    where weeks.unauthorised_absence_sessions > 0

),

rolling_windows as (

    -- Each window starts at a school week with unauthorised absence and takes it and the
    -- next 9 school weeks; a window that starts elsewhere holds no more than one of these.
    select
        urn,
        upn,
        academic_year,
        sum(unauthorised_sessions) over (
            partition by urn, upn, academic_year
            order by school_week_number
            range between current row and 9 following
        ) as unauthorised_in_window
    from unauthorised_by_week

),

penalty as (

    select
        urn,
        upn,
        academic_year,
        max(unauthorised_in_window) as max_unauthorised_in_10_school_weeks
    from rolling_windows
    group by urn, upn, academic_year

),

unresolved as (

    -- An N is unresolved when it is still N more than 5 school days before the school's
    -- latest school day with marks.
    select
        sessions.urn,
        sessions.upn,
        sessions.academic_year,
        count(*) as unresolved_n_sessions,
        min(sessions.session_date) as oldest_unresolved_n_date
    from sessions
    inner join school_days
        on
            sessions.urn = school_days.urn
            and sessions.session_date = school_days.session_date
    where
        sessions.code = 'N'
        and school_days.latest_school_day_number - school_days.school_day_number > 5
    group by sessions.urn, sessions.upn, sessions.academic_year

),

flagged as (

    select
        enrolments.urn,
        enrolments.upn,
        enrolments.academic_year,
        enrolments.sen_provision,
        enrolments.sen_primary_need,
        enrolments.is_persistent_absence as persistent_absence,
        enrolments.is_severe_absence as severe_absence,
        coalesce(illness.illness_sessions, 0) >= 30 as illness_15_days,
        coalesce(penalty.max_unauthorised_in_10_school_weeks, 0) >= 10 as penalty_threshold,
        coalesce(unresolved.unresolved_n_sessions, 0) > 0 as unresolved_n,
        enrolments.possible_sessions,
        enrolments.overall_absence_rate,
        coalesce(illness.illness_sessions, 0) as illness_sessions,
        coalesce(penalty.max_unauthorised_in_10_school_weeks, 0)
            as max_unauthorised_in_10_school_weeks,
        coalesce(unresolved.unresolved_n_sessions, 0) as unresolved_n_sessions,
        unresolved.oldest_unresolved_n_date
    from enrolments
    left join illness
        on
            enrolments.urn = illness.urn
            and enrolments.upn = illness.upn
            and enrolments.academic_year = illness.academic_year
    left join penalty
        on
            enrolments.urn = penalty.urn
            and enrolments.upn = penalty.upn
            and enrolments.academic_year = penalty.academic_year
    left join unresolved
        on
            enrolments.urn = unresolved.urn
            and enrolments.upn = unresolved.upn
            and enrolments.academic_year = unresolved.academic_year

),

final as (

    select
        flagged.urn,
        flagged.upn,
        flagged.academic_year,
        flagged.sen_provision,
        flagged.sen_primary_need,
        flagged.persistent_absence,
        flagged.severe_absence,
        flagged.illness_15_days,
        flagged.penalty_threshold,
        flagged.unresolved_n,
        flagged.penalty_threshold
        and coalesce(flagged.sen_provision in ('K', 'E'), false) as support_first,
        cast(flagged.possible_sessions as integer) as possible_sessions,
        flagged.overall_absence_rate,
        cast(flagged.illness_sessions as integer) as illness_sessions,
        cast(flagged.max_unauthorised_in_10_school_weeks as integer)
            as max_unauthorised_in_10_school_weeks,
        cast(flagged.unresolved_n_sessions as integer) as unresolved_n_sessions,
        flagged.oldest_unresolved_n_date,
        horizon.as_of
    from flagged
    cross join horizon
    where
        flagged.persistent_absence
        or flagged.severe_absence
        or flagged.illness_15_days
        or flagged.penalty_threshold
        or flagged.unresolved_n

)

select * from final
