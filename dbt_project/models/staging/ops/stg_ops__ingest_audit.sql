-- Not cut off: the cut-off is a transaction time of the register, and a file's ingest
-- always comes after the extract it holds, so a backfill's cut-off would hide every file.
with

source as (

    select * from {{ source('ops', 'ingest_audit') }}

),

final as (

    select
        path,
        {{ urn_of_path('path') }} as urn,
        sha256,
        rows_read,
        rows_new,
        rows_duplicate,
        rows_quarantined,
        rejected,
        reason,
        ingested_at,
        load_id
    from source

)

select * from final
