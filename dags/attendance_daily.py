"""Daily attendance pipeline.

The logical date is the register day. Each run pulls new extracts from the MIS feed (when
ATTENDANCE_FEED_URL is set), ingests every new extract in the landing folder, reports the
schools whose extract for the day did not arrive (and carries on with the others), builds
the dbt models as they stood at the end of the register day, audits the marts with Great
Expectations and, only if the audit passes, publishes them. Publishing updates the asset
`attendance_publication` (and one asset per mart), which runs the downstream DAGs
`attendance_exports` and `attendance_report`; a failed run updates nothing.

Every task that opens the warehouse takes the one-slot pool `attendance_warehouse`.
The steps live in `pipeline.daily`; this file only wires them together.

Run it on your own extracts with `make run LANDING=... WAREHOUSE=...`, backfill days with
`make backfill FROM=... TO=...`, or trigger it with the params `landing` and `warehouse`
(blank: ATTENDANCE_LANDING / ATTENDANCE_WAREHOUSE).
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from ingestion.http_pull.config import pull_task_timeout
from pipeline import daily
from pipeline.assets import emit_publication, publish_outlets
from pipeline.failures import record_failure
from pipeline.pool import WAREHOUSE_POOL
from pipeline.run_info import RunInfo, run_info


def _run() -> RunInfo:
    return run_info(get_current_context())


@dag(
    dag_id="attendance_daily",
    # After schools' afternoon registers and the MIS's 16:00 export, on school days.
    schedule="0 18 * * 1-5",
    start_date=pendulum.datetime(2024, 9, 2, tz="Europe/London"),
    catchup=False,
    # The warehouse is one DuckDB file: one run at a time (backfills: --max-active-runs 1).
    max_active_runs=1,
    params={
        "landing": Param(None, type=["null", "string"], description="Folder of extracts"),
        "warehouse": Param(None, type=["null", "string"], description="Output folder"),
    },
    default_args={"on_failure_callback": record_failure},
    tags=["attendance"],
    doc_md=__doc__,
)
def attendance_daily() -> None:
    # The feed client retries within a pull; these retries cover a feed that stays down for a
    # while. Each retry resumes from the last committed cursor. The pull fails itself at its
    # run deadline; the timeout (that deadline and a margin) stops a hung try whatever hangs,
    # so one bad morning cannot hold the one active run for ever.
    @task(
        retries=3,
        retry_delay=timedelta(minutes=2),
        retry_exponential_backoff=True,
        execution_timeout=pull_task_timeout(),
    )
    def pull() -> dict | None:
        return daily.pull(_run())

    @task(pool=WAREHOUSE_POOL)
    def ingest() -> dict:
        return daily.ingest(_run())

    @task(pool=WAREHOUSE_POOL)
    def check_extracts() -> dict:
        return daily.check_extracts(_run())

    @task(pool=WAREHOUSE_POOL)
    def build() -> dict:
        return daily.build(_run())

    @task(pool=WAREHOUSE_POOL)
    def audit() -> dict:
        return daily.audit(_run())

    @task(pool=WAREHOUSE_POOL, outlets=publish_outlets())
    def publish(extract_check: dict) -> dict:
        extra = daily.publish(_run(), extract_check)
        emit_publication(get_current_context()["outlet_events"], extra)
        return extra

    checked = check_extracts()
    pull() >> ingest() >> checked >> build() >> audit() >> publish(checked)


attendance_daily()
