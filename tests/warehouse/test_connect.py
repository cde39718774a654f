"""The memory limit reaches every DuckDB connection on the warehouse: dbt's, the audit's, ours.

The expected values come from DuckDB itself (a separate in-memory database given the same
size), not from the module under test; nothing here is timed.
"""

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
import yaml

from expectations.checkpoint import AuditFailed, audit
from ingestion.ingest import ingest_landing
from pipeline.marts import dbt_env
from synthetic import SyntheticLA
from tests.support.extracts import deliver
from warehouse.connect import (
    MEMORY_LIMIT_ENV,
    BadMemoryLimit,
    connect,
    memory_limit,
)
from warehouse.project import DBT_PROJECT_DIR

SMALL = "300MB"
SETTINGS_SQL = (
    "select current_setting('memory_limit') as memory_limit, "
    "current_setting('temp_directory') as temp_directory"
)


def _as_duckdb_shows(size: str) -> str:
    with duckdb.connect() as con:
        con.execute(f"set memory_limit = '{size}'")
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, SMALL)
    shown = _as_duckdb_shows(SMALL)
    assert shown != _as_duckdb_shows("6GB")
    return shown


def test_the_default_is_six_gigabytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    assert memory_limit() == "6GB"


def test_a_limit_that_is_not_a_size_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "six gigs")
    with pytest.raises(BadMemoryLimit, match=MEMORY_LIMIT_ENV):
        memory_limit()


def test_our_connections_have_the_limit_and_spill_under_work(
    small_limit: str, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.duckdb"
    with connect(database) as con:
        limit, temp = con.execute(SETTINGS_SQL).fetchone()
    assert limit == small_limit
    assert Path(temp) == tmp_path / "work" / "duckdb_temp"
    assert Path(temp).is_dir()


def test_ingestion_opens_the_warehouse_through_the_limit(
    small_limit: str, tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    landing, database = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    deliver(tiny_la, landing, range(1))
    assert not (tmp_path / "work").exists()
    summary = ingest_landing(landing, database, progress=lambda _: None)
    assert summary.files and not any(f.rejected for f in summary.files)
    # Only `connect` makes the spill folder, so ingestion went through it.
    assert (tmp_path / "work" / "duckdb_temp").is_dir()


def test_dbt_connections_have_the_limit(small_limit: str, tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(database)).close()
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "--quiet",
            "show",
            "--inline",
            SETTINGS_SQL,
            "--output",
            "json",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "dbt_target"),
            "--log-path",
            str(tmp_path / "dbt_logs"),
        ],
        env=dbt_env(database),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    shown = json.loads(done.stdout[done.stdout.index("{") :])["show"]
    assert shown == [
        {"memory_limit": small_limit, "temp_directory": str(tmp_path / "work" / "duckdb_temp")}
    ]


def test_the_audit_connections_have_the_limit(small_limit: str, tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(database)).close()
    seen: list[tuple[str, str]] = []

    def record(dbapi_connection: object, _: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute(SETTINGS_SQL)
        seen.append(tuple(cursor.fetchone()))

    sa.event.listen(sa.pool.Pool, "connect", record)
    try:
        # No table to check: the audit still opens the file, then withholds publication.
        with pytest.raises(AuditFailed):
            audit(database, ["pupil_attendance"])
    finally:
        sa.event.remove(sa.pool.Pool, "connect", record)
    assert seen
    assert set(seen) == {(small_limit, str(tmp_path / "work" / "duckdb_temp"))}


def test_dbt_sets_the_spill_folder_once_per_connection(tmp_path: Path) -> None:
    # dbt-duckdb SETs a profile's `settings` on every cursor it opens, and DuckDB refuses to
    # set temp_directory again once a query has used it: a year-long build failed that way at
    # its end-of-run hooks. Connection options (`config_options`) are set once, at connect.
    config = {"memory_limit": "64MB", "temp_directory": str(tmp_path / "spill")}
    with duckdb.connect(str(tmp_path / "x.duckdb"), config=config) as con:
        con.execute("select count(*) from (select hash(range) as k from range(3000000) group by k)")
        with pytest.raises(duckdb.NotImplementedException, match="temporary directory"):
            con.cursor().execute(f"set temp_directory = '{tmp_path / 'spill'}'")
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    output = profile["attendance"]["outputs"]["warehouse"]
    assert {"memory_limit", "temp_directory"} <= set(output["config_options"])
    assert not {"memory_limit", "temp_directory"} & set(output.get("settings") or {})
