"""Daily attendance pipeline.

The logical date is the register day. Each run pulls new extracts from the MIS feed (when
ATTENDANCE_FEED_URL is set), ingests every new extract in the landing folder, builds the dbt
models, audits the marts with Great Expectations and, only if the audit passes, publishes
them. The steps live in `ingestion.pipeline`; this file only wires
them together.

Run it on your own extracts with `make run LANDING=... WAREHOUSE=...`, or trigger it with
the params `landing` and `warehouse` (blank: ATTENDANCE_LANDING / ATTENDANCE_WAREHOUSE).
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from ingestion import pipeline


def _folders() -> tuple[str | None, str | None]:
    params = get_current_context()["params"]
    return params.get("landing"), params.get("warehouse")


@dag(
    dag_id="attendance_daily",
    # After schools' afternoon registers and the MIS's 16:00 export, on school days.
    schedule="0 18 * * 1-5",
    start_date=pendulum.datetime(2024, 9, 2, tz="Europe/London"),
    catchup=False,
    # The warehouse is one DuckDB file: one writer at a time.
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

    @task
    def ingest() -> dict:
        return pipeline.ingest_step(*_folders(), load_id=get_current_context()["run_id"])

    @task
    def build() -> None:
        pipeline.build_step(*_folders())

    @task
    def audit() -> dict:
        return pipeline.audit_step(*_folders())

    @task
    def publish() -> dict:
        return pipeline.publish_step(*_folders())

    @task
    def report() -> str:
        return pipeline.summary_step(*_folders())

    pull() >> ingest() >> build() >> audit() >> publish() >> report()


attendance_daily()
