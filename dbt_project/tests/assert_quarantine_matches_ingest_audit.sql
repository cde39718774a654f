-- Every file's rows_quarantined is the number of its rows in the quarantine mart, and every
-- quarantined row belongs to a file of the audit: nothing quarantined is lost or invented.
with

audit as (

    select * from {{ ref('ingest_audit') }}

),

quarantined as (

    select * from {{ ref('stg_ops__quarantine') }}

),

per_file as (

    select
        path,
        load_id,
        count(*) as rows_quarantined
    from quarantined
    group by path, load_id

),

final as (

    select
        coalesce(audit.path, per_file.path) as file_path,
        audit.rows_quarantined as rows_audited,
        per_file.rows_quarantined as rows_stored
    from audit
    full outer join per_file
        on
            audit.path = per_file.path
            and audit.load_id = per_file.load_id
    where coalesce(audit.rows_quarantined, -1) != coalesce(per_file.rows_quarantined, 0)

)

select * from final
