"""Build the dbt models (staging, intermediate, core, marts) and their tests into a warehouse."""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ingestion.school_calendar.expected_days import STALE_AFTER_ENV, stale_after_school_days
from pipeline.model_layout import built_layout, drop_stale_relations, project_layout, record_layout
from warehouse.connect import dbt_environment, temp_directory
from warehouse.permissions import make_folders
from warehouse.project import DBT_PROJECT_DIR

log = logging.getLogger(__name__)


class BuildFailed(Exception):
    """dbt could not build the models or a dbt test failed; nothing will be published."""


def build_marts(
    database: Path,
    work_dir: Path,
    cutoff: str | None = None,
    progress: Callable[[str], None] = log.info,
    unit_tests: bool = False,
    full_refresh: bool = False,
    previous_support_list: Path | None = None,
) -> None:
    """`dbt build` (seeds, models and data tests) into the DuckDB file `database`.

    dbt's unit tests check the SQL, not the data: they belong to the test suite
    (`unit_tests=True` there), not to every morning's build, where they cost seconds.
    dbt runs in its own process, so that its logging and global state stay out of the
    Airflow worker; its artefacts go to `work_dir`, never into the repository. A warehouse
    built with another layout of the models is rebuilt whole (pipeline/model_layout.py).
    `previous_support_list`: the last publication's pupils_for_support Parquet file, which
    the new list's `newly_listed` compares with (None: every listed pupil is new).
    """
    layout = project_layout()
    upgrade = built_layout(database) != layout
    if upgrade and not full_refresh:
        progress(
            f"the warehouse does not record model layout {layout} (new, or built by an earlier "
            "version): full refresh"
        )
        full_refresh = True
    dbt = Path(sys.executable).with_name("dbt")
    target = work_dir / "dbt_target"
    command = [
        str(dbt),
        "build",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(work_dir / "dbt_logs"),
    ]
    if not unit_tests:
        command += ["--exclude-resource-type", "unit_test"]
    variables: dict[str, object] = {}
    if full_refresh:
        # Every incremental model rebuilt from the whole event store (a replay), and the data
        # tests that check only the rows a daily build wrote check whole tables.
        command.append("--full-refresh")
        variables["full_data_tests"] = True
    if cutoff:
        variables["cutoff"] = cutoff
    if previous_support_list is not None:
        variables["previous_support_list"] = str(previous_support_list)
    if os.environ.get(STALE_AFTER_ENV, "").strip():
        # The setting that the alerts use, so that the mart's `stale` agrees with them.
        variables["stale_after_school_days"] = stale_after_school_days()
    if variables:
        command += ["--vars", json.dumps(variables)]
    env = dbt_env(database)
    make_folders(temp_directory(database))
    progress(f"dbt build into {database}" + (f" with cut-off {cutoff}" if cutoff else ""))
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise BuildFailed(_failure_summary(target, finished.stdout + finished.stderr))
    if upgrade:
        dropped = drop_stale_relations(database, target / "manifest.json")
        if dropped:
            progress(f"dropped relations the models no longer build: {', '.join(dropped)}")
        record_layout(database, layout)
    progress(_last_line(finished.stdout))


def dbt_env(database: Path) -> dict[str, str]:
    """The environment dbt runs in: the warehouse file, and the memory limit for its profile."""
    return {
        **os.environ,
        **dbt_environment(database),
        "ATTENDANCE_WAREHOUSE_DB": str(database),
        "DO_NOT_TRACK": "1",
    }


def _failure_summary(target: Path, output: str) -> str:
    results = target / "run_results.json"
    failed = []
    if results.exists():
        for result in json.loads(results.read_text())["results"]:
            if result["status"] in ("error", "fail"):
                failed.append(f"{result['unique_id']}: {result.get('message') or result['status']}")
    if failed:
        return "dbt build failed, so nothing was published:\n  " + "\n  ".join(failed)
    return "dbt build failed, so nothing was published. dbt said:\n" + output[-3000:]


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if "Done." in line]
    return lines[-1].split("  ", 1)[-1].strip() if lines else "dbt build finished"
