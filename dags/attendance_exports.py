"""Exports of each publication: CSV extracts for the register day.

Runs whenever `attendance_daily` publishes (it is scheduled on the asset
`attendance_publication`), and only then: a failed audit publishes nothing, so this DAG
does not run. Writes `WAREHOUSE/exports/<register day>/` from the published marts: the
hub's action list, the day's school figures, each school's data-quality file (its rejected
files and quarantined rows) and a manifest. The warehouse folder and the
register day come from the asset event; triggered by hand, from the params (blank:
ATTENDANCE_WAREHOUSE and its latest publication). The work is `pipeline.downstream.exports`.
"""

from airflow.sdk import Param, dag, get_current_context, task

from pipeline import downstream
from pipeline.assets import PUBLICATION
from pipeline.failures import record_failure


@dag(
    dag_id="attendance_exports",
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
def attendance_exports() -> None:
    @task
    def write_exports() -> dict:
        return downstream.exports(get_current_context())

    write_exports()


attendance_exports()
