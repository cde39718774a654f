-- Each ingested file with the school and extract time its path names (the landing layout of
-- ingestion/landing.py: the nearest folder of six digits, the nearest folder named by an
-- extract stamp). Not cut off here: the published ingest_audit accounts for every file
-- ingested by the time of the build (a file's ingest always comes after the extract it
-- holds, so a cut-off would hide every file of a backfill); school_feed_status applies the
-- cut-off to the stamps itself.
with

source as (

    select * from {{ source('ops', 'ingest_audit') }}

),

named as (

    select
        *,
        {{ urn_of_path('path') }} as path_urn,
        list_last(
            list_filter(
                string_split(path, '/')[:-2],
                lambda name: regexp_full_match(
                    name,
                    '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{4})?'
                )
            )
        ) as stamp
    from source

),

stamped as (

    select
        *,
        -- A stamp without an offset is UTC, as the ingester reads it.
        try_strptime(
            case
                when regexp_matches(stamp, '[+-][0-9]{4}$') then stamp
                else regexp_replace(stamp, 'Z$', '') || '+0000'
            end,
            '%Y-%m-%dT%H-%M-%S%z'
        ) as stamp_at
    from named

),

final as (

    select
        path,
        path_urn as urn,
        cast(stamp_at as timestamptz) as extract_stamp_at,
        sha256,
        rows_read,
        rows_new,
        rows_duplicate,
        rows_quarantined,
        rejected,
        reason,
        ingested_at,
        load_id
    from stamped

)

select * from final
