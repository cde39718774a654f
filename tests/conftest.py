"""Shared fixtures: generated data sets, a published LA, and an isolated Airflow home for real
DAG runs."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def tiny_la():
    from synthetic import build_la
    from tests.support.extracts import TINY

    return build_la(TINY)


# The published LA of the serving and pipeline tests: enough schools and SEN groups for small
# counts to be withheld, and for withheld cells to need complements; small enough to build in
# seconds.
PUBLISHED_CONFIG = {
    "schools": 5,
    "pupils": 200,
    "school_days": 10,
    "window_days": 5,
    "closure_day": 4,
}


@pytest.fixture(scope="session")
def serving_la():
    from synthetic import GeneratorConfig, build_la

    return build_la(GeneratorConfig(**PUBLISHED_CONFIG))


@pytest.fixture(scope="session")
def published(serving_la, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published folder of `serving_la`, every day delivered (ingested, built by real dbt,
    published by the pipeline's own steps); its working warehouse is its parent. Shared: copy
    it before writing beside it."""
    from tests.support.published import published_la

    root = tmp_path_factory.mktemp("serving")
    days = range(serving_la.config.school_days)
    return published_la(serving_la, root, days).locations.published


@pytest.fixture(scope="session")
def published_warehouse(tiny_la, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse of `tiny_la` that has published once (days 0-3), built and audited by the
    real steps. Shared by the pipeline, expectations and publication tests: they write only to
    a copy (tests/pipeline's `warehouse`, or a copy of its warehouse.duckdb)."""
    from tests.support.published import published_la

    root = tmp_path_factory.mktemp("published-once")
    return published_la(tiny_la, root, range(4), run_id="first", audit=True).locations.warehouse


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
