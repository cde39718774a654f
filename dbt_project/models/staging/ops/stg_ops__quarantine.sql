-- Not cut off, as stg_ops__ingest_audit.
with

source as (

    select * from {{ source('ops', 'quarantine') }}

),

final as (

    select
        path,
        {{ urn_of_path('path') }} as urn,
        line,
        reason,
        raw_record,
        ingested_at,
        load_id
    from source

)

select * from final
