-- The published ingest audit (restricted): every file the pipeline has read, with its
-- counts, so that a hub reads it without opening the working warehouse. rows_rejected
-- closes the account of a file refused whole, whose rows were counted but none taken:
-- rows_read = rows_new + rows_duplicate + rows_quarantined + rows_rejected for every file.
with

audit as (

    select * from {{ ref('stg_ops__ingest_audit') }}

),

horizon as (

    select * from {{ ref('int_event_horizon') }}

),

final as (

    select
        audit.path,
        audit.urn,
        audit.sha256,
        audit.rows_read,
        audit.rows_new,
        audit.rows_duplicate,
        audit.rows_quarantined,
        case when audit.rejected then audit.rows_read else 0 end as rows_rejected,
        audit.rejected,
        audit.reason,
        audit.ingested_at,
        audit.load_id,
        horizon.as_of
    from audit
    cross join horizon

)

select * from final
