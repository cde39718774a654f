"""The Airflow pool of the tasks that open the working warehouse (one slot).

Every task that opens `warehouse.duckdb` (ingest, the missing-extract check, dbt build,
audit, publish, the report) takes the slot, so the scheduler runs them one at a time,
whichever DAG run or backfill they belong to, and no worker sits waiting on the warehouse
lock (warehouse/lock.py), which guards the same file outside Airflow.
"""

WAREHOUSE_POOL = "attendance_warehouse"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = (
    "One task at a time opens the attendance warehouse (DuckDB: one writer, no reader "
    "beside it). Keep it at 1 slot."
)


def ensure_pool() -> None:
    """Create or update the warehouse pool in Airflow's metadata database (idempotent)."""
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        Pool.create_or_update_pool(
            WAREHOUSE_POOL,
            slots=WAREHOUSE_POOL_SLOTS,
            description=WAREHOUSE_POOL_DESCRIPTION,
            include_deferred=False,
            session=session,
        )
