-- One row per known school: how fresh its feed is and what of it went wrong, for the hub to
-- chase. The age of a feed is counted in the days the school was expected open after its
-- latest extract, up to the day of the data's as_of (ops.school_calendar), not in calendar
-- days: a holiday does not make a feed stale (docs/models.md, "school_feed_status").
with

schools as (

    select * from {{ ref('dim_schools') }}

),

-- Files stamped after the cut-off were not yet taken when a backfill's day ended.
files as (

    select * from {{ ref('stg_ops__ingest_audit') }}
    where extract_stamp_at is null or extract_stamp_at <= {{ build_cutoff() }}

),

calendar as (

    select * from {{ ref('stg_ops__school_calendar') }}

),

mark_events as (

    select
        urn,
        extracted_at
    from {{ ref('stg_register__mark_events') }}

),

pupil_events as (

    select
        urn,
        extracted_at
    from {{ ref('stg_register__pupil_events') }}

),

school_events as (

    select
        urn,
        extracted_at
    from {{ ref('stg_register__school_events') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

event_extracts as (

    -- Files outside the stamp folders are dated by the rows they stored.
    select
        urn,
        max(extracted_at) as latest_event_extract_at
    from (
        select * from mark_events
        union all
        select * from pupil_events
        union all
        select * from school_events
    ) as all_events
    group by urn

),

school_files as (

    select
        urn,
        extract_stamp_at,
        rejected,
        rows_quarantined,
        load_id = arg_max(load_id, ingested_at) over (partition by urn) as in_latest_load
    from files
    where urn is not null

),

file_counts as (

    select
        urn,
        max(extract_stamp_at) filter (where not rejected) as latest_file_extract_at,
        count(*) filter (where rejected) as files_rejected,
        sum(rows_quarantined) as rows_quarantined,
        bool_or(rejected and in_latest_load) as latest_load_rejected
    from school_files
    group by urn

),

feeds as (

    select
        schools.urn,
        schools.la_code,
        schools.school_name,
        greatest(
            event_extracts.latest_event_extract_at, file_counts.latest_file_extract_at
        ) as latest_extract_at,
        schools.latest_open_session_date as latest_session_date,
        coalesce(file_counts.files_rejected, 0) as files_rejected,
        coalesce(file_counts.rows_quarantined, 0) as rows_quarantined,
        coalesce(file_counts.latest_load_rejected, false) as latest_load_rejected,
        horizon.as_of
    from schools
    cross join horizon
    left join event_extracts on schools.urn = event_extracts.urn
    left join file_counts on schools.urn = file_counts.urn

),

ages as (

    select
        feeds.urn,
        count(calendar.school_day) as school_days_behind
    from feeds
    left join calendar
        on
            feeds.urn = calendar.urn
            and calendar.school_day <= cast(timezone('Europe/London', feeds.as_of) as date)
            and (
                feeds.latest_extract_at is null
                or calendar.school_day
                > cast(timezone('Europe/London', feeds.latest_extract_at) as date)
            )
    group by feeds.urn

),

final as (

    select
        feeds.urn,
        feeds.la_code,
        feeds.school_name,
        feeds.latest_extract_at,
        feeds.latest_session_date,
        cast(feeds.files_rejected as integer) as files_rejected,
        cast(feeds.rows_quarantined as integer) as rows_quarantined,
        cast(ages.school_days_behind as integer) as school_days_behind,
        case
            when ages.school_days_behind > {{ var('stale_after_school_days') }} then 'stale'
            when ages.school_days_behind >= 1 then 'missing'
            when feeds.latest_load_rejected then 'rejected'
            else 'ok'
        end as status,
        feeds.as_of
    from feeds
    inner join ages on feeds.urn = ages.urn

)

select * from final
