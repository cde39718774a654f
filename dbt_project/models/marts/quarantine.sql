-- The published quarantine (restricted): every quarantined row with its file, line and
-- reason, and the sha256 of the file version it came from, which ties it to its
-- ingest_audit row (a path can be delivered again with new bytes).
with

quarantined as (

    select * from {{ ref('stg_ops__quarantine') }}

),

audit as (

    select * from {{ ref('stg_ops__ingest_audit') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

-- One ingest reads a path once, so (path, load_id) names one file version.
with_file as (

    select
        quarantined.*,
        audit.sha256
    from quarantined
    inner join audit
        on
            quarantined.path = audit.path
            and quarantined.load_id = audit.load_id

),

final as (

    select
        with_file.path,
        with_file.urn,
        with_file.sha256,
        with_file.line,
        with_file.reason,
        with_file.raw_record,
        with_file.ingested_at,
        with_file.load_id,
        horizon.as_of
    from with_file
    cross join horizon

)

select * from final
