-- One row per school and school day: the DfE-style daily data-sharing feed, for a
-- controller that already receives pupil-level data (the DfE, the LA). Never suppressed:
-- every figure is the true count of school_daily_reasons (docs/bi.md). The category totals
-- follow each session's own category (a historic J counted as AEA then stays AEA), the
-- reason columns the code's DfE column.
with

school_days as (

    select * from {{ ref('dim_school_days') }}

),

reasons as (

    select * from {{ ref('school_daily_reasons') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

daily_counts as (

    select
        urn,
        session_date,
        {%- for column in dfe_reason_columns() %}
            sum(sessions) filter (where dfe_column = '{{ column }}') as {{ column }},
        {%- endfor %}
        sum(sessions) filter (where category = 'present') as present_sessions,
        sum(sessions) filter (where category = 'aea') as approved_educational_activity,
        sum(sessions) filter (where category = 'authorised') as authorised_absence,
        sum(sessions) filter (where category = 'unauthorised') as unauthorised_absence
    from reasons
    group by urn, session_date

),

final as (

    select
        school_days.urn,
        school_days.session_date as attendance_date,
        school_days.academic_year,
        cast(
            coalesce(daily_counts.present_sessions, 0)
            + coalesce(daily_counts.approved_educational_activity, 0)
            + coalesce(daily_counts.authorised_absence, 0)
            + coalesce(daily_counts.unauthorised_absence, 0)
            as integer
        ) as possible_sessions,
        cast(coalesce(daily_counts.present_sessions, 0) as integer) as present_sessions,
        cast(coalesce(daily_counts.approved_educational_activity, 0) as integer)
            as approved_educational_activity,
        cast(coalesce(daily_counts.authorised_absence, 0) as integer) as authorised_absence,
        cast(coalesce(daily_counts.unauthorised_absence, 0) as integer)
            as unauthorised_absence,
        cast(
            coalesce(daily_counts.present_sessions, 0)
            + coalesce(daily_counts.approved_educational_activity, 0)
            as integer
        ) as overall_attendance,
        cast(
            coalesce(daily_counts.authorised_absence, 0)
            + coalesce(daily_counts.unauthorised_absence, 0)
            as integer
        ) as overall_absence,
        {%- for column in dfe_reason_columns() %}
            cast(coalesce(daily_counts.{{ column }}, 0) as integer) as {{ column }},
        {%- endfor %}
        horizon.as_of
    from school_days
    left join daily_counts
        on
            school_days.urn = daily_counts.urn
            and school_days.session_date = daily_counts.session_date
    cross join horizon

)

select * from final
