"""Publish audited marts where readers find them: a DuckDB file and Parquet files.

Write-audit-publish: the marts are built and audited in the working warehouse (the candidate);
only then does this module copy them out. Nothing a reader opens is ever written in place:

- `published.duckdb` is written beside its destination and renamed over it, so a reader opens
  either the whole previous file or the whole new one;
- the Parquet files go to a new version folder, `parquet/<version>/`, and the pointer file
  `parquet/CURRENT` (plus the symlink `parquet/current`) is renamed into place after it, so a
  reader that follows the pointer sees one complete version.

Each publication has a version id, stored in `published.duckdb` (table `publication`), in its
Parquet folder's name and in `publication.json`, so a reader can check that what it read
belongs together. A publisher killed part-way leaves only temporary files and an unreferenced
version folder; the next publication removes them.
"""

import json
import os
import shutil
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.duckdb_limits import connect

PUBLISHED_MARTS = (
    "pupil_attendance",
    "absence_episodes",
    "pupils_for_support",
    "attendance_by_sen",
    "attendance_by_sen_need",
    "school_daily_attendance",
    "school_daily_reasons",
)
PUBLISHED_DB = "published.duckdb"
POINTER = "CURRENT"
POINTER_LINK = "current"
# Older Parquet versions kept for readers that are still reading one.
VERSIONS_KEPT = 3
# Test hook: the name of a step at which the publisher kills itself with SIGKILL, to prove
# that a publisher dying anywhere leaves readers a whole publication.
CRASH_AT_ENV = "ATTENDANCE_PUBLISH_CRASH_AT"


@dataclass(frozen=True)
class Publication:
    folder: Path
    version: str
    database: Path
    parquet: dict[str, Path]
    rows: dict[str, int]
    as_of: str


def publish(warehouse: Path, folder: Path, marts: tuple[str, ...] = PUBLISHED_MARTS) -> Publication:
    """Copy the audited marts of `warehouse` into `folder`, replacing the last publication."""
    parquet_root = folder / "parquet"
    parquet_root.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder)
    published_at = datetime.now(UTC)
    version = published_at.strftime("v%Y%m%dT%H%M%S%fZ")
    version_folder = parquet_root / version
    staging_folder = parquet_root / f".{version}.tmp"
    staging_db = folder / f".{PUBLISHED_DB}.{version}.tmp"
    staging_folder.mkdir()

    rows: dict[str, int] = {}
    with connect(staging_db, warehouse_db=warehouse) as con:
        con.execute("attach ? as warehouse (read_only)", [str(warehouse)])
        for mart in marts:
            con.execute(f"create table main.{mart} as select * from warehouse.main.{mart}")
            rows[mart] = con.execute(f"select count(*) from main.{mart}").fetchone()[0]
            con.execute(
                f"copy main.{mart} to '{staging_folder / f'{mart}.parquet'}' (format parquet)"
            )
        as_of = con.execute(f"select cast(max(as_of) as varchar) from main.{marts[0]}").fetchone()[
            0
        ]
        loaded_through = _loaded_through(con)
        con.execute("detach warehouse")
        con.execute(
            "create table main.publication as select ? as version, "
            "cast(? as timestamptz) as published_at, cast(? as timestamptz) as as_of",
            [version, published_at, as_of],
        )
    for path in [staging_db, *staging_folder.iterdir()]:
        _fsync(path)
    _crash_point("parquet_staged")
    os.replace(staging_folder, version_folder)
    _fsync_dir(parquet_root)
    _crash_point("parquet_written")
    os.replace(staging_db, folder / PUBLISHED_DB)
    _fsync_dir(folder)
    _crash_point("database_replaced")
    _point_at(parquet_root, version)
    _crash_point("pointer_swapped")
    manifest = {
        "version": version,
        "published_at": published_at.isoformat(),
        "as_of": as_of,
        # The ingestion watermark of the session facts behind these marts: the next daily
        # audit checks only events stored after it (ingestion/quality.py).
        "loaded_through": loaded_through,
        "rows": rows,
        "database": PUBLISHED_DB,
        "parquet": {m: f"parquet/{version}/{m}.parquet" for m in marts},
    }
    _write_atomically(folder / "publication.json", json.dumps(manifest, indent=2))
    _prune_versions(parquet_root, keep=version)
    return Publication(
        folder,
        version,
        folder / PUBLISHED_DB,
        {m: version_folder / f"{m}.parquet" for m in marts},
        rows,
        str(as_of),
    )


def _loaded_through(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = 'warehouse' and schema_name = 'main' and table_name = 'fct_sessions'"
    ).fetchone()[0]
    if not found:
        return None
    return con.execute(
        "select cast(max(loaded_through) as varchar) from warehouse.main.fct_sessions"
    ).fetchone()[0]


def current_parquet_folder(folder: Path) -> Path:
    """The Parquet version folder readers should use now (the one `CURRENT` points at)."""
    pointer = folder / "parquet" / POINTER
    return folder / "parquet" / pointer.read_text(encoding="utf-8").strip()


def last_publication(folder: Path) -> dict | None:
    """The manifest of the last complete publication, or None if there has been none."""
    manifest = folder / "publication.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8"))


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete what a publisher killed part-way left behind: temporary files and folders, and
    version folders newer than the one `CURRENT` points at. Readers never look at either."""
    parquet_root = folder / "parquet"
    leftovers = [*folder.glob(".*.tmp"), *parquet_root.glob(".*.tmp")]
    pointer = parquet_root / POINTER
    if pointer.is_file():
        current = pointer.read_text(encoding="utf-8").strip()
        leftovers += [p for p in parquet_root.glob("v*") if p.is_dir() and p.name > current]
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return leftovers


def _point_at(parquet_root: Path, version: str) -> None:
    _write_atomically(parquet_root / POINTER, version + "\n")
    staged_link = parquet_root / f".{POINTER_LINK}.tmp"
    staged_link.unlink(missing_ok=True)
    staged_link.symlink_to(version, target_is_directory=True)
    os.replace(staged_link, parquet_root / POINTER_LINK)
    _fsync_dir(parquet_root)


def _prune_versions(parquet_root: Path, keep: str) -> None:
    versions = sorted(p for p in parquet_root.glob("v*") if p.is_dir() and p.name != keep)
    for old in versions[: max(0, len(versions) - (VERSIONS_KEPT - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(text, encoding="utf-8")
    _fsync(staged)
    os.replace(staged, path)
