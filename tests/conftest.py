"""Shared fixtures: generated data sets and an isolated Airflow home for real DAG runs."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ingestion.synthetic import GeneratorConfig, SyntheticLA, build_la, write_extracts_for_day

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Airflow reads its settings when first imported, so the tests' own Airflow home (never the
# developer's .airflow) is set before any test module imports it.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="attendance-airflow-home-")
AIRFLOW_SETTINGS = {
    "AIRFLOW_HOME": _AIRFLOW_HOME,
    # The Makefile exports a connection string into its own .airflow/; the tests' home needs
    # its own, or `make test` would migrate (and share) the developer's database.
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db?timeout=60",
    "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__PARALLELISM": "4",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
}
os.environ.update(AIRFLOW_SETTINGS)
# A small authority that still has every kind of file: CSV, JSON Lines, gzip, BOM, shuffled
# columns, amended and not-yet-taken marks, a closure day, rows that must be quarantined.
TINY = GeneratorConfig(schools=4, pupils=60, school_days=6, window_days=3, closure_day=2)


@pytest.fixture(scope="session")
def tiny_la() -> SyntheticLA:
    return build_la(TINY)


def deliver(la: SyntheticLA, landing: Path, days: range) -> None:
    for day_index in days:
        write_extracts_for_day(la, day_index, landing)


@pytest.fixture(scope="session")
def airflow_env() -> dict[str, str]:
    """Environment for real DAG runs against the tests' own, migrated SQLite metadata DB."""
    env = {**os.environ, **AIRFLOW_SETTINGS}
    migrate = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ingestion.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
    )
