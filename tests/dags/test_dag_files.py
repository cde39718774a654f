from datetime import timedelta

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import Asset

from ingestion.http_pull.config import DEFAULT_RUN_DEADLINE, RUN_DEADLINE_ENV, pull_task_timeout
from pipeline.pool import WAREHOUSE_POOL
from publication.publish import PUBLISHED_MARTS
from warehouse.project import PROJECT_ROOT

WAREHOUSE_TASKS = {"ingest", "check_extracts", "build", "audit", "publish"}


def _bag() -> DagBag:
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert bag.import_errors == {}
    return bag


def test_dag_files_import_without_errors(airflow_env: dict[str, str]) -> None:
    bag = _bag()
    assert set(bag.dag_ids) == {
        "attendance_daily",
        "attendance_exports",
        "attendance_report",
        "attendance_serving",
    }
    dag = bag.get_dag("attendance_daily")
    assert [t.task_id for t in dag.topological_sort()] == [
        "pull",
        "ingest",
        "check_extracts",
        "build",
        "audit",
        "publish",
    ]
    assert dag.max_active_runs == 1


def test_every_task_that_opens_the_warehouse_takes_the_one_slot_pool(
    airflow_env: dict[str, str],
) -> None:
    bag = _bag()
    daily = bag.get_dag("attendance_daily")
    assert {t.task_id for t in daily.tasks if t.pool == WAREHOUSE_POOL} == WAREHOUSE_TASKS
    assert daily.get_task("pull").pool != WAREHOUSE_POOL
    assert daily.get_task("pull").retries == 3
    # The downstream DAGs read only what publication wrote.
    for dag_id, task_id in (
        ("attendance_exports", "write_exports"),
        ("attendance_report", "write_report"),
        ("attendance_serving", "refresh_serving"),
    ):
        assert bag.get_dag(dag_id).get_task(task_id).pool != WAREHOUSE_POOL


def test_publish_updates_the_publication_and_mart_assets_that_schedule_the_downstream_dags(
    airflow_env: dict[str, str],
) -> None:
    bag = _bag()
    outlets = bag.get_dag("attendance_daily").get_task("publish").outlets
    assert [a.uri for a in outlets] == [
        "attendance://warehouse/published",
        *(f"attendance://warehouse/published/{mart}" for mart in PUBLISHED_MARTS),
    ]
    # Only publish declares outlets: a run that stops before it emits no asset event.
    others = [t for t in bag.get_dag("attendance_daily").tasks if t.task_id != "publish"]
    assert all(not t.outlets for t in others)
    for dag_id in ("attendance_exports", "attendance_report", "attendance_serving"):
        schedule = bag.get_dag(dag_id).timetable.asset_condition
        assert isinstance(schedule, Asset)
        assert schedule.uri == "attendance://warehouse/published"


def test_a_hung_pull_cannot_hold_the_one_active_run_for_ever(
    airflow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pull fails itself at its run deadline; Airflow's execution_timeout, a little
    # longer, is the backstop for anything else that hangs.
    monkeypatch.delenv(RUN_DEADLINE_ENV, raising=False)
    pull = _bag().get_dag("attendance_daily").get_task("pull")
    assert pull.execution_timeout == pull_task_timeout()
    run_deadline = timedelta(seconds=DEFAULT_RUN_DEADLINE)
    assert run_deadline < pull.execution_timeout <= run_deadline + timedelta(minutes=15)
    # A deployment that gives its pulls longer gives the task longer too.
    monkeypatch.setenv(RUN_DEADLINE_ENV, "7200")
    pull = _bag().get_dag("attendance_daily").get_task("pull")
    assert timedelta(hours=2) < pull.execution_timeout <= timedelta(hours=2, minutes=15)
