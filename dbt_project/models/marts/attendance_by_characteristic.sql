-- Attendance by pupil characteristic (cohorts), year to date: one row per (level, area,
-- academic_year, characteristic, group_value), level `school` (area = urn) or `la` (area =
-- la_code). Each enrolment counts once per characteristic, in its latest group, so the
-- groups of one characteristic add up to the `all` row. Published whole to the restricted
-- tier; the public tier withholds small counts in serving/public_tier.py, audited with the
-- SEN marts whose sen_provision rows are the same figures.
{%- set characteristics = [
    ('all', "'all'"),
    ('sen_provision', 'sen_provision'),
    ('fsm_eligible', 'cast(fsm_eligible as varchar)'),
    ('looked_after', 'cast(looked_after as varchar)'),
    ('child_in_need', 'cast(child_in_need as varchar)'),
    ('child_protection_plan', 'cast(child_protection_plan as varchar)'),
    ('ncy', "coalesce(ncy, 'unknown')"),
    ('compulsory_school_age', 'cast(compulsory_school_age as varchar)'),
] %}
with

enrolments as (

    select * from {{ ref('pupil_attendance') }}

),

schools as (

    select * from {{ ref('dim_schools') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

characterised as (

    {% for characteristic, group_value in characteristics -%}
        select
            urn,
            academic_year,
            possible_sessions,
            authorised_absence_sessions,
            unauthorised_absence_sessions,
            is_persistent_absence,
            is_severe_absence,
            '{{ characteristic }}' as characteristic,
            {{ group_value }} as group_value
        from enrolments
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

located as (

    {{ located_enrolments('characterised', 'schools') }}

),

grouped as (

    select
        level,
        area,
        academic_year,
        characteristic,
        group_value,
        {{ sen_aggregate_counts() }}
    from located
    group by level, area, academic_year, characteristic, group_value

),

final as (

    select
        grouped.level,
        grouped.area,
        grouped.academic_year,
        grouped.characteristic,
        grouped.group_value,
        {{ aggregate_measures('grouped') }},
        false as suppressed,
        horizon.as_of
    from grouped
    cross join horizon

)

select * from final
