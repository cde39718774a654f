-- The action list of the previous publication (var previous_support_list: the Parquet file
-- of pupils_for_support the pipeline found published when the build began), so that the
-- new list can mark what is new to its readers. No previous publication, or one without
-- the list: an empty list, and every listed enrolment is new. Read from the publication,
-- never from this warehouse's own table: a rebuild or a build that was not published must
-- not hide what the readers have not yet seen. A list published before a flag existed lacks
-- its column: UNION BY NAME reads it as null (not flagged then).
{%- set previous = var('previous_support_list', '') %}
with

template as (

    select
        cast(null as varchar) as urn,
        cast(null as varchar) as upn,
        cast(null as varchar) as academic_year,
        cast(null as boolean) as persistent_absence,
        cast(null as boolean) as severe_absence,
        cast(null as boolean) as illness_15_days,
        cast(null as boolean) as penalty_threshold,
        cast(null as boolean) as unresolved_n,
        cast(null as boolean) as support_first,
        cast(null as boolean) as unauthorised_10_school_days,
        cast(null as boolean) as part_time_timetable
    where false

),

{% if previous %}

    published as (

        select * from read_parquet('{{ previous | replace("'", "''") }}')

    ),

    previous_list as (

        select * from template
        union all by name
        select * from published

    ),

{% else %}

    previous_list as (

        select * from template

    ),

{% endif %}

final as (

    select
        urn,
        upn,
        academic_year,
        coalesce(persistent_absence, false) as persistent_absence,
        coalesce(severe_absence, false) as severe_absence,
        coalesce(illness_15_days, false) as illness_15_days,
        coalesce(penalty_threshold, false) as penalty_threshold,
        coalesce(unresolved_n, false) as unresolved_n,
        coalesce(support_first, false) as support_first,
        coalesce(unauthorised_10_school_days, false) as unauthorised_10_school_days,
        coalesce(part_time_timetable, false) as part_time_timetable
    from previous_list

)

select * from final
