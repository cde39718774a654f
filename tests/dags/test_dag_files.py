from airflow.dag_processing.dagbag import DagBag

from conftest import PROJECT_ROOT


def test_dag_files_import_without_errors(airflow_env: dict[str, str]) -> None:
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert bag.import_errors == {}
    dag = bag.get_dag("attendance_daily")
    assert dag is not None
    assert [t.task_id for t in dag.topological_sort()] == [
        "pull",
        "ingest",
        "build",
        "audit",
        "publish",
        "report",
    ]
    assert dag.max_active_runs == 1
