"""Serving of each publication: PostgreSQL tiers for BI tools and the DfE-style extract.

Runs whenever `attendance_daily` publishes (scheduled on the asset `attendance_publication`).
Writes `WAREHOUSE/extracts/dfe_daily_attendance_<register day>.csv` (suppressed), then, when
ATTENDANCE_SERVING_DB_URL is set, loads the published marts into the PostgreSQL schemas
`attendance_restricted` and `attendance_public` and swaps them in one transaction
(docs/bi.md). Reads only the published copy, so it needs no warehouse pool slot. The work is
`pipeline.downstream.serving`.
"""

from airflow.sdk import Param, dag, get_current_context, task

from pipeline import downstream
from pipeline.assets import PUBLICATION
from pipeline.failures import record_failure


@dag(
    dag_id="attendance_serving",
    schedule=PUBLICATION,
    catchup=False,
    max_active_runs=1,
    # Runs only after a publication; nothing to switch on by hand.
    is_paused_upon_creation=False,
    params={
        "warehouse": Param(None, type=["null", "string"], description="Warehouse folder"),
        "register_day": Param(None, type=["null", "string"], description="YYYY-MM-DD"),
    },
    default_args={"on_failure_callback": record_failure},
    tags=["attendance"],
    doc_md=__doc__,
)
def attendance_serving() -> None:
    @task
    def refresh_serving() -> dict:
        return downstream.serving(get_current_context())

    refresh_serving()


attendance_serving()
