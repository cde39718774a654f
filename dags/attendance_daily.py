"""Daily attendance pipeline.

The logical date is the register day. Each run pulls new extracts from the MIS feed (when
ATTENDANCE_FEED_URL is set), ingests every new extract in the landing folder, reports the
schools whose extract for the day did not arrive (and carries on with the others), builds
the dbt models as they stood at the end of the register day, audits the marts with Great
Expectations and, only if the audit passes, publishes them. Publishing updates the asset
`attendance_publication` (and one asset per mart), which runs the downstream DAGs
`attendance_exports` and `attendance_report`; a failed run updates nothing.

Every task that opens the warehouse takes the one-slot pool `attendance_warehouse`.
The steps live in `ingestion.pipeline`; this file only wires them together.

Run it on your own extracts with `make run LANDING=... WAREHOUSE=...`, backfill days with
`make backfill FROM=... TO=...`, or trigger it with the params `landing` and `warehouse`
(blank: ATTENDANCE_LANDING / ATTENDANCE_WAREHOUSE).
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from ingestion import pipeline
from ingestion.assets import emit_publication, publish_outlets
from ingestion.warehouse_access import WAREHOUSE_POOL


def _folders() -> tuple[str | None, str | None]:
    params = get_current_context()["params"]
    return params.get("landing"), params.get("warehouse")


def _run() -> pipeline.RunInfo:
    return pipeline.run_info(get_current_context())


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
    default_args={"on_failure_callback": pipeline.record_failure},
    tags=["attendance"],
    doc_md=__doc__,
)
def attendance_daily() -> None:
    # The feed client retries within a pull; these retries cover a feed that stays down for a
    # while. Each retry resumes from the last committed cursor.
    @task(retries=3, retry_delay=timedelta(minutes=2), retry_exponential_backoff=True)
    def pull() -> dict | None:
        return pipeline.pull_step(*_folders())

    @task(pool=WAREHOUSE_POOL)
    def ingest() -> dict:
        return pipeline.ingest_run(_run())

    @task(pool=WAREHOUSE_POOL)
    def check_extracts() -> dict:
        return pipeline.check_extracts_run(_run())

    @task(pool=WAREHOUSE_POOL)
    def build() -> dict:
        return pipeline.build_run(_run())

    @task(pool=WAREHOUSE_POOL)
    def audit() -> dict:
        return pipeline.audit_run(_run())

    @task(pool=WAREHOUSE_POOL, outlets=publish_outlets())
    def publish(extract_check: dict) -> dict:
        context = get_current_context()
        extra = pipeline.publish_run(pipeline.run_info(context), extract_check)
        emit_publication(context["outlet_events"], extra)
        return extra

    checked = check_extracts()
    pull() >> ingest() >> checked >> build() >> audit() >> publish(checked)


attendance_daily()
