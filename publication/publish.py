"""Publish audited marts where readers find them: a DuckDB file and Parquet files.

Write-audit-publish: the marts are built and audited in the working warehouse (the candidate);
only then does this module copy them out. Nothing a reader opens is ever written in place:

- `published.duckdb` is written beside its destination and renamed over it, so a reader opens
  either the whole previous file or the whole new one;
- the Parquet files go to a new version folder, `parquet/<version>/`, and the pointer file
  `parquet/CURRENT` (plus the symlink `parquet/current`) is renamed into place after it, so a
  reader that follows the pointer sees one complete version.

Each publication has a version id, stored in `published.duckdb` (table `publication`), in its
Parquet folder's name and in `publication.json` (the record: publication/record.py), so a
reader can check that what it read belongs together. A publisher killed part-way leaves only
temporary files and an unreferenced version folder; the next publication removes them.

What DuckDB wrote is given ATTENDANCE_UMASK's modes (0640 files, 0750 folders by default:
warehouse/permissions.py) before it is renamed into place, whatever the process umask.
"""

import os
import shutil
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from publication.previous_list import keep_baseline
from publication.record import (
    PublicationRecord,
    PublishingRun,
    fingerprints,
    read_record,
    write_record_file,
    write_record_table,
)
from warehouse.connect import connect
from warehouse.files import fsync_file, fsync_folder, write_text_atomically
from warehouse.permissions import folder_mode, make_folders, restrict

PUBLISHED_MARTS = (
    "pupil_attendance",
    "absence_episodes",
    "pupils_for_support",
    "attendance_by_sen",
    "attendance_by_sen_need",
    "school_daily_attendance",
    "school_daily_reasons",
    "schools",
    "dfe_daily_attendance",
    "school_feed_status",
    "attendance_by_characteristic",
    "weekly_attendance",
    "children_missing_education",
    # Operational (restricted): every file read and every row quarantined (MARTS.md).
    "ingest_audit",
    "quarantine",
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
    """A publication in place: its folder and its record."""

    folder: Path
    record: PublicationRecord

    @property
    def version(self) -> str:
        return self.record.version

    @property
    def database(self) -> Path:
        return self.folder / self.record.database

    @property
    def parquet(self) -> dict[str, Path]:
        return {mart: self.folder / path for mart, path in self.record.parquet.items()}

    @property
    def rows(self) -> dict[str, int]:
        return self.record.rows

    @property
    def as_of(self) -> str | None:
        return self.record.as_of


def publish(
    warehouse: Path,
    folder: Path,
    run: PublishingRun | None = None,
    marts: tuple[str, ...] = PUBLISHED_MARTS,
) -> Publication:
    """Copy the audited marts of `warehouse` into `folder`, replacing the last publication;
    `run` is the DAG run that publishes (kept in the publication's record)."""
    parquet_root = folder / "parquet"
    make_folders(parquet_root)
    remove_leftovers(folder)
    published_at = datetime.now(UTC)
    version = published_at.strftime("v%Y%m%dT%H%M%S%fZ")
    version_folder = parquet_root / version
    staging_folder = parquet_root / f".{version}.tmp"
    staging_db = folder / f".{PUBLISHED_DB}.{version}.tmp"
    staging_folder.mkdir(mode=folder_mode())

    rows: dict[str, int] = {}
    with connect(staging_db, warehouse_db=warehouse) as con:
        con.execute("attach ? as warehouse (read_only)", [str(warehouse)])
        for mart in marts:
            con.execute(f"create table main.{mart} as select * from warehouse.main.{mart}")
            rows[mart] = con.execute(f"select count(*) from main.{mart}").fetchone()[0]
            con.execute(
                f"copy main.{mart} to '{staging_folder / f'{mart}.parquet'}' (format parquet)"
            )
        (as_of,) = con.execute(
            f"select cast(max(as_of) as varchar) from main.{marts[0]}"
        ).fetchone()
        rows_quarantined, files_rejected = _ingest_counts(con)
        record = PublicationRecord(
            version=version,
            published_at=published_at.isoformat(),
            as_of=as_of,
            loaded_through=_loaded_through(con),
            rows=rows,
            fingerprints=fingerprints(con, marts),
            rows_quarantined=rows_quarantined,
            files_rejected=files_rejected,
            database=PUBLISHED_DB,
            parquet={m: f"parquet/{version}/{m}.parquet" for m in marts},
            run=run or PublishingRun(),
        )
        con.execute("detach warehouse")
        write_record_table(con, record)
    for path in [staging_db, *staging_folder.iterdir()]:
        restrict(path)
        fsync_file(path)
    restrict(staging_folder)
    _crash_point("parquet_staged")
    os.replace(staging_folder, version_folder)
    fsync_folder(parquet_root)
    _crash_point("parquet_written")
    os.replace(staging_db, folder / PUBLISHED_DB)
    fsync_folder(folder)
    _crash_point("database_replaced")
    _point_at(parquet_root, version)
    _crash_point("pointer_swapped")
    # The outgoing list, read by its record before the new record replaces it.
    keep_baseline(folder, read_record(folder), record.run.register_day)
    write_record_file(folder, record)
    _prune_versions(parquet_root, keep=version)
    return Publication(folder, record)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() "
            "where database_name = 'warehouse' and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _loaded_through(con: duckdb.DuckDBPyConnection) -> str | None:
    if not _has_table(con, "main", "fct_sessions"):
        return None
    return con.execute(
        "select cast(max(loaded_through) as varchar) from warehouse.main.fct_sessions"
    ).fetchone()[0]


def _ingest_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Rows quarantined and files rejected in every file ingested so far."""
    if not _has_table(con, "ops", "ingest_audit"):
        return 0, 0
    quarantined, rejected = con.execute(
        "select coalesce(sum(rows_quarantined), 0), count(*) filter (where rejected) "
        "from warehouse.ops.ingest_audit"
    ).fetchone()
    return int(quarantined), int(rejected)


def current_parquet_folder(folder: Path) -> Path:
    """The Parquet version folder readers should use now (the one `CURRENT` points at)."""
    pointer = folder / "parquet" / POINTER
    return folder / "parquet" / pointer.read_text(encoding="utf-8").strip()


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
    write_text_atomically(parquet_root / POINTER, version + "\n")
    staged_link = parquet_root / f".{POINTER_LINK}.tmp"
    staged_link.unlink(missing_ok=True)
    staged_link.symlink_to(version, target_is_directory=True)
    os.replace(staged_link, parquet_root / POINTER_LINK)
    fsync_folder(parquet_root)


def _prune_versions(parquet_root: Path, keep: str) -> None:
    versions = sorted(p for p in parquet_root.glob("v*") if p.is_dir() and p.name != keep)
    for old in versions[: max(0, len(versions) - (VERSIONS_KEPT - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
