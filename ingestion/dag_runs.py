"""Run the real `attendance_daily` DAG for given register days, without a scheduler.

Uses Airflow's own `dag.test()`: a real DAG run, recorded in Airflow's metadata database,
with every task executed by Airflow. Airflow reads its settings from the environment, which
the Makefile sets (AIRFLOW_HOME, the dags folder).
"""

import logging
import os
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from ingestion.alerts import alerts_for_run
from ingestion.paths import DAGS_DIR

DAG_ID = "attendance_daily"
LONDON = ZoneInfo("Europe/London")
# The DAG's schedule: 18:00 on each school day.
RUN_TIME = time(18, 0)


class DagRunFailed(Exception):
    """A DAG run did not succeed; the message names the failed tasks and why."""


def load_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        problems = "; ".join(f"{path}: {error}" for path, error in bag.import_errors.items())
        raise DagRunFailed(f"the DAG files do not import: {problems}")
    return bag.get_dag(DAG_ID)


def logical_date_for(register_day: date) -> datetime:
    return datetime.combine(register_day, RUN_TIME, LONDON)


def run_day(dag, register_day: date, landing: Path, warehouse: Path) -> None:
    """One DAG run for `register_day`; raises DagRunFailed unless every task succeeded."""
    run = dag.test(
        logical_date=logical_date_for(register_day),
        run_conf={"landing": str(landing), "warehouse": str(warehouse)},
    )
    if run is None or str(run.state) != "success":
        raise DagRunFailed(_why(run, register_day, warehouse))


def _why(run, register_day: date, warehouse: Path) -> str:
    if run is None:
        return f"the DAG run for {register_day} did not start"
    failed = [ti.task_id for ti in run.get_task_instances() if str(ti.state) == "failed"]
    reasons = [f"task {a.task_id}: {a.reason}" for a in alerts_for_run(warehouse, run.run_id)]
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
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a") as log:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    return terminal, terminal_errors
