"""Run report of each publication: a Markdown summary in WAREHOUSE/reports/.

Runs whenever `attendance_daily` publishes (scheduled on the asset
`attendance_publication`), never after a failed audit. Writes
`WAREHOUSE/reports/<register day>.md`: headline figures, marts and rows, missing extracts
and the alerts of the run. Reads the warehouse's ingest audit, so it takes the
`attendance_warehouse` pool slot. The work is `ingestion.downstream.report_run`.
"""

from airflow.sdk import Param, dag, get_current_context, task

from ingestion import downstream, pipeline
from ingestion.assets import PUBLICATION
from ingestion.warehouse_access import WAREHOUSE_POOL


@dag(
    dag_id="attendance_report",
    schedule=PUBLICATION,
    catchup=False,
    max_active_runs=1,
    # Runs only after a publication; nothing to switch on by hand.
    is_paused_upon_creation=False,
    params={
        "warehouse": Param(None, type=["null", "string"], description="Warehouse folder"),
        "register_day": Param(None, type=["null", "string"], description="YYYY-MM-DD"),
    },
    default_args={"on_failure_callback": pipeline.record_failure},
    tags=["attendance"],
    doc_md=__doc__,
)
def attendance_report() -> None:
    @task(pool=WAREHOUSE_POOL)
    def write_report() -> dict:
        return downstream.report_run(get_current_context())

    write_report()


attendance_report()
