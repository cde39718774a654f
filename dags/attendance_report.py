"""Run report of each publication: a Markdown summary in WAREHOUSE/reports/.

Runs whenever `attendance_daily` publishes (scheduled on the asset
`attendance_publication`), never after a failed audit. Writes
`WAREHOUSE/reports/<register day>.md`: headline figures, marts and rows, missing extracts
and the alerts of the run, the HTML reports per LA and school, and each school's
targeting meeting pack (`WAREHOUSE/reports/targeting/<urn>.html`, restricted). Reads only the
publication (and the alerts file), so it needs no warehouse pool slot. The work is
`pipeline.downstream.report`.
"""

from airflow.sdk import Param, dag, get_current_context, task

from pipeline import downstream
from pipeline.assets import PUBLICATION
from pipeline.failures import record_failure


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
    default_args={"on_failure_callback": record_failure},
    tags=["attendance"],
    doc_md=__doc__,
)
def attendance_report() -> None:
    @task
    def write_report() -> dict:
        return downstream.report(get_current_context())

    write_report()


attendance_report()
