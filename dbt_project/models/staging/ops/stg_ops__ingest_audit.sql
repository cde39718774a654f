-- Each ingested file with the school and extract time its path names (the landing layout of
-- ingestion/landing.py: the nearest folder of six digits, the nearest folder named by an
-- extract stamp), known by the cut-off: a file whose stamp is after it was not yet taken.
with

source as (

    select * from {{ source('ops', 'ingest_audit') }}

),

folders as (

    select
        *,
        -- The path's folders, nearest last (the file name dropped).
        string_split(path, '/')[1:-2] as folder_names
    from source

),

named as (

    select
        *,
        list_filter(
            folder_names, lambda name: regexp_full_match(name, '[0-9]{6}')
        )[-1] as path_urn,
        list_filter(
            folder_names,
            lambda name: regexp_full_match(
                name, '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{4})?'
            )
        )[-1] as stamp
    from folders

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
        rows_read,
        rows_new,
        rows_duplicate,
        rows_quarantined,
        rejected,
        ingested_at,
        load_id
    from stamped
    where stamp_at is null or stamp_at <= {{ build_cutoff() }}

)

select * from final
