"""Publication is all or nothing for readers, even when the publisher is killed part-way."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from publication.publish import (
    CRASH_AT_ENV,
    POINTER,
    current_parquet_folder,
    publish,
)
from publication.record import read_record

CRASH_POINTS = ["parquet_staged", "parquet_written", "database_replaced", "pointer_swapped"]


@pytest.fixture(scope="module")
def warehouses(
    published_warehouse: Path, published: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """Two candidate warehouses with different marts: copies of the session's built ones, the
    tiny LA after day 3 (old) and the serving tests' LA after its last day (new)."""
    root = tmp_path_factory.mktemp("publish")
    old, new = root / "old.duckdb", root / "new.duckdb"
    shutil.copy(published_warehouse / "warehouse.duckdb", old)
    shutil.copy(published.parent / "warehouse.duckdb", new)
    return old, new


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple]:
    return con.execute(f"select * from {relation} order by all").fetchall()


def _candidate_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return _rows(con, "main.pupil_attendance")


def _what_readers_see(folder: Path) -> tuple[list[tuple], str, list[tuple], str]:
    with duckdb.connect(str(folder / "published.duckdb"), read_only=True) as con:
        database_rows = _rows(con, "main.pupil_attendance")
        (database_version,) = con.execute("select version from publication").fetchone()
    parquet = current_parquet_folder(folder)
    with duckdb.connect() as con:
        parquet_rows = _rows(con, f"read_parquet('{parquet / 'pupil_attendance.parquet'}')")
    return database_rows, database_version, parquet_rows, parquet.name


def test_publication_replaces_the_previous_one(
    warehouses: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = warehouses
    first = publish(old, tmp_path)
    second = publish(new, tmp_path)
    rows, version, parquet_rows, parquet_version = _what_readers_see(tmp_path)
    assert rows == parquet_rows == _candidate_rows(new) != _candidate_rows(old)
    assert version == parquet_version == second.version != first.version
    assert read_record(tmp_path).version == second.version
    assert (tmp_path / "parquet" / "current").resolve() == current_parquet_folder(tmp_path)


@pytest.mark.parametrize("step", CRASH_POINTS)
def test_a_publisher_killed_part_way_leaves_a_whole_publication(
    warehouses: tuple[Path, Path], tmp_path: Path, step: str
) -> None:
    old, new = warehouses
    before = publish(old, tmp_path)
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from publication.publish import publish; "
            "publish(Path(sys.argv[1]), Path(sys.argv[2]))",
            str(new),
            str(tmp_path),
        ],
        env={**os.environ, CRASH_AT_ENV: step},
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]

    rows, version, parquet_rows, parquet_version = _what_readers_see(tmp_path)
    # Each format is whole: entirely the old publication or entirely the new one.
    assert rows in (_candidate_rows(old), _candidate_rows(new))
    assert (version == before.version) == (rows == _candidate_rows(old))
    assert parquet_rows in (_candidate_rows(old), _candidate_rows(new))
    assert (parquet_version == before.version) == (parquet_rows == _candidate_rows(old))

    # The next run recovers: leftovers are cleared and the new publication is complete.
    after = publish(new, tmp_path)
    rows, version, parquet_rows, parquet_version = _what_readers_see(tmp_path)
    assert rows == parquet_rows == _candidate_rows(new)
    assert version == parquet_version == after.version
    assert not list(tmp_path.rglob("*.tmp"))
    assert (tmp_path / "parquet" / POINTER).read_text().strip() == after.version


def test_old_versions_are_pruned(warehouses: tuple[Path, Path], tmp_path: Path) -> None:
    old, _ = warehouses
    for _ in range(5):
        publish(old, tmp_path)
    versions = [p for p in (tmp_path / "parquet").glob("v*") if p.is_dir()]
    assert len(versions) == 3
    assert current_parquet_folder(tmp_path) in versions
