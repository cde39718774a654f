-- The attendance hub's action list: one row per enrolment and academic year with at least
-- one flag (MARTS.md). Support comes first: support_first marks pupils with SEN who reach
-- the penalty-notice threshold. Illness and unauthorised sessions are counted week by week
-- (fct_enrolment_weekly_counts); unresolved N marks need each session's school day.
-- Priority ranks each LA's list for the officer who works through it (docs/models.md,
-- "Action list priority"); newly_listed compares with the previous publication's list.
{%- set part_time_weeks = var('part_time_timetable_weeks', 3) %}
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

schools as (

    select * from {{ ref('dim_schools') }}

),

previous_list as (

    select * from {{ ref('int_previous_support_list') }}

),

-- Only an episode with 20 or more unauthorised sessions can hold a run of 20: the episodes
-- already chain the possible sessions over closures and sessions not possible for the pupil.
long_unauthorised_episodes as (

    select
        urn,
        upn,
        episode_id,
        start_key,
        ended_by_key
    from {{ ref('fct_absence_episodes') }}
    where episode_id is not null and unauthorised_sessions >= 20

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

episode_sessions as (

    select
        episodes.episode_id,
        sessions.urn,
        sessions.upn,
        sessions.academic_year,
        sessions.session_key,
        sessions.category,
        row_number() over (
            partition by episodes.episode_id order by sessions.session_key
        ) as position_in_episode
    from long_unauthorised_episodes as episodes
    inner join sessions
        on
            episodes.urn = sessions.urn
            and episodes.upn = sessions.upn
            and episodes.start_key <= sessions.session_key
            and (episodes.ended_by_key is null or episodes.ended_by_key > sessions.session_key)
    where sessions.is_possible

),

unauthorised_runs as (

    -- Gaps and islands within the episode: along a run of unauthorised sessions the
    -- position less the count of unauthorised sessions so far is constant. A run is counted
    -- within one academic year, as every flag is.
    select
        urn,
        upn,
        academic_year,
        episode_id,
        position_in_episode - row_number() over (
            partition by episode_id, academic_year order by session_key
        ) as run_number
    from episode_sessions
    where category = 'unauthorised'

),

unauthorised_days as (

    select
        urn,
        upn,
        academic_year,
        max(run_sessions) as longest_unauthorised_run_sessions
    from (
        select
            urn,
            upn,
            academic_year,
            count(*) as run_sessions
        from unauthorised_runs
        group by urn, upn, academic_year, episode_id, run_number
    ) as runs
    group by urn, upn, academic_year

),

school_week_starts as (

    select distinct
        urn,
        week_start
    from school_days

),

recent_school_weeks as (

    -- The school's last school weeks, the current (maybe part) week included.
    select
        urn,
        week_start
    from school_week_starts
    qualify
        dense_rank() over (partition by urn order by week_start desc)
        <= {{ part_time_weeks }}

),

part_time as (

    -- A part-time timetable is meant to be temporary: a C2 in each of the school's last
    -- school weeks marks one still running, for review.
    select
        sessions.urn,
        sessions.upn,
        sessions.academic_year,
        count(distinct recent_school_weeks.week_start) as recent_weeks_with_c2
    from sessions
    inner join school_days
        on
            sessions.urn = school_days.urn
            and sessions.session_date = school_days.session_date
    inner join recent_school_weeks
        on
            school_days.urn = recent_school_weeks.urn
            and school_days.week_start = recent_school_weeks.week_start
    where sessions.code = 'C2'
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
        coalesce(unauthorised_days.longest_unauthorised_run_sessions, 0) >= 20
            as unauthorised_10_school_days,
        coalesce(part_time.recent_weeks_with_c2, 0) >= {{ part_time_weeks }}
            as part_time_timetable,
        enrolments.ncy,
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
    left join unauthorised_days
        on
            enrolments.urn = unauthorised_days.urn
            and enrolments.upn = unauthorised_days.upn
            and enrolments.academic_year = unauthorised_days.academic_year
    left join part_time
        on
            enrolments.urn = part_time.urn
            and enrolments.upn = part_time.upn
            and enrolments.academic_year = part_time.academic_year

),

listed as (

    select
        *,
        penalty_threshold and coalesce(sen_provision in ('K', 'E'), false) as support_first
    from flagged
    where
        persistent_absence
        or severe_absence
        or illness_15_days
        or penalty_threshold
        or unresolved_n
        or unauthorised_10_school_days
        or part_time_timetable

),

ranked as (

    -- The most urgent flag decides the group; within it, the higher absence rate first,
    -- then the school and UPN, so that equal rates always rank alike.
    select
        listed.*,
        schools.school_name,
        row_number() over (
            partition by schools.la_code, listed.academic_year
            order by
                case
                    when listed.severe_absence then 1
                    when listed.illness_15_days then 2
                    when listed.unauthorised_10_school_days then 3
                    when listed.support_first then 4
                    when listed.penalty_threshold then 5
                    when listed.persistent_absence then 6
                    when listed.part_time_timetable then 7
                    else 8
                end asc,
                listed.overall_absence_rate desc,
                listed.urn asc,
                listed.upn asc
        ) as priority,
        previous_list.urn is null
        or (listed.persistent_absence and not previous_list.persistent_absence)
        or (listed.severe_absence and not previous_list.severe_absence)
        or (listed.illness_15_days and not previous_list.illness_15_days)
        or (listed.penalty_threshold and not previous_list.penalty_threshold)
        or (listed.unresolved_n and not previous_list.unresolved_n)
        or (listed.support_first and not previous_list.support_first)
        or (
            listed.unauthorised_10_school_days
            and not previous_list.unauthorised_10_school_days
        )
        or (listed.part_time_timetable and not previous_list.part_time_timetable)
            as newly_listed
    from listed
    left join schools
        on listed.urn = schools.urn
    left join previous_list
        on
            listed.urn = previous_list.urn
            and listed.upn = previous_list.upn
            and listed.academic_year = previous_list.academic_year

),

final as (

    select
        ranked.urn,
        ranked.upn,
        ranked.academic_year,
        ranked.sen_provision,
        ranked.sen_primary_need,
        ranked.persistent_absence,
        ranked.severe_absence,
        ranked.illness_15_days,
        ranked.penalty_threshold,
        ranked.unresolved_n,
        ranked.support_first,
        cast(ranked.possible_sessions as integer) as possible_sessions,
        ranked.overall_absence_rate,
        cast(ranked.illness_sessions as integer) as illness_sessions,
        cast(ranked.max_unauthorised_in_10_school_weeks as integer)
            as max_unauthorised_in_10_school_weeks,
        cast(ranked.unresolved_n_sessions as integer) as unresolved_n_sessions,
        ranked.oldest_unresolved_n_date,
        ranked.ncy,
        ranked.school_name,
        ranked.unauthorised_10_school_days,
        ranked.part_time_timetable,
        ranked.newly_listed,
        cast(ranked.priority as integer) as priority,
        horizon.as_of
    from ranked
    cross join horizon

)

select * from final
