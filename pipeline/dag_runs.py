"""Run the real DAGs for given register days, without a scheduler.

Uses Airflow's own `dag.test()`: a real DAG run, recorded in Airflow's metadata database,
with every task executed by Airflow. Airflow reads its settings from the environment, which
the Makefile sets (AIRFLOW_HOME, the dags folder).

`dag.test()` runs no scheduler, so the downstream DAGs that a publication's asset event
would trigger are run the same way by `run_downstream`, with the warehouse in their params.
`dag.test()` also ignores pools: the warehouse lock keeps these runs apart from a scheduler's.
"""

import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from warehouse.alerts import TASK_FAILED, alerts_for_run
from warehouse.permissions import make_folders, restricted_opener
from warehouse.project import DAGS_DIR
from warehouse.register_days import logical_date_for

DAG_ID = "attendance_daily"
# Scheduled on the publication asset; run after each successful daily run.
DOWNSTREAM_DAG_IDS = ("attendance_exports", "attendance_report", "attendance_serving")


class DagRunFailed(Exception):
    """A DAG run did not succeed; the message names the failed tasks and why."""


def load_dags() -> dict:
    """The project's DAGs by id; also makes sure the warehouse pool exists."""
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.pool import ensure_pool

    bag = DagBag(dag_folder=str(dags_folder()))
    if bag.import_errors:
        problems = "; ".join(f"{path}: {error}" for path, error in bag.import_errors.items())
        raise DagRunFailed(f"the DAG files do not import: {problems}")
    ensure_pool()
    return {dag_id: bag.get_dag(dag_id) for dag_id in (DAG_ID, *DOWNSTREAM_DAG_IDS)}


def dags_folder() -> Path:
    """The checkout's `dags/`; where the package is installed without it (a Docker image),
    the dags folder Airflow is configured with."""
    if DAGS_DIR.is_dir():
        return DAGS_DIR
    from airflow.configuration import conf

    return Path(conf.get("core", "dags_folder"))


def run_day(dag, register_day: date, landing: Path, warehouse: Path):
    """One DAG run for `register_day`; raises DagRunFailed unless every task succeeded."""
    run = dag.test(
        logical_date=logical_date_for(register_day),
        run_conf={"landing": str(landing), "warehouse": str(warehouse)},
    )
    if run is None or str(run.state) != "success":
        raise DagRunFailed(_why(run, register_day, warehouse))
    return run


def published(run) -> bool:
    """Whether the run's publish task succeeded (it is skipped when a later day is already
    published, see pipeline.daily.build)."""
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    return states.get("publish") == "success"


def run_downstream(dags: dict, warehouse: Path) -> None:
    """Run the downstream DAGs (exports, report, serving) on the latest publication."""
    for dag_id in DOWNSTREAM_DAG_IDS:
        run = dags[dag_id].test(logical_date=None, run_conf={"warehouse": str(warehouse)})
        if run is None or str(run.state) != "success":
            state = run.state if run is not None else "not started"
            reasons = [f"task {a.task_id}: {a.reason}" for a in _alerts(run, warehouse)]
            raise DagRunFailed(
                "\n".join(
                    [f"the {dag_id} run ended {state}"]
                    + (reasons or ["the Airflow log has the reason"])
                )
            )


def failed_steps(dag_ids: tuple[str, ...]) -> list[str]:
    """The tasks of the latest run of each of `dag_ids` that failed, from Airflow's database
    (where a run that died on its own error, as on a full disk, still left its states)."""
    from airflow.models.dagrun import DagRun

    steps = []
    for dag_id in dag_ids:
        runs = DagRun.find(dag_id=dag_id)
        if not runs:
            continue
        latest = max(runs, key=lambda run: run.id)
        steps += [ti.task_id for ti in latest.get_task_instances() if str(ti.state) == "failed"]
    return steps


def _alerts(run, warehouse: Path) -> list:
    return alerts_for_run(warehouse, run.run_id) if run is not None else []


def _why(run, register_day: date, warehouse: Path) -> str:
    if run is None:
        return f"the DAG run for {register_day} did not start"
    failed = [ti.task_id for ti in run.get_task_instances() if str(ti.state) == "failed"]
    reasons = [
        f"task {a.task_id}: {a.reason}"
        for a in alerts_for_run(warehouse, run.run_id)
        if a.kind == TASK_FAILED
    ]
    return "\n".join(
        [f"the DAG run for {register_day} ended {run.state}; failed: {', '.join(failed) or '?'}"]
        + (reasons or ["the Airflow log has the reason"])
        + ["The last good publication is unchanged."]
    )


def divert_output(log_file: Path) -> tuple[TextIO, TextIO]:
    """Send everything written to stdout and stderr (Airflow's task logs, dbt, DuckDB's exit
    messages) to `log_file`; return streams to the terminal's stdout and stderr, for the
    run's own progress and errors."""
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    terminal_errors = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    make_folders(log_file.parent)
    with open(log_file, "a", opener=restricted_opener) as log:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    return terminal, terminal_errors
