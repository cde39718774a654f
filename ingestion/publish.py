"""Publish audited marts where readers find them: a DuckDB file and Parquet files.

Both are written beside their destination and renamed into place, so that a reader opens
either the whole previous publication or the whole new one, never a half-written file.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

PUBLISHED_MARTS = ("pupil_attendance",)
PUBLISHED_DB = "published.duckdb"


@dataclass(frozen=True)
class Publication:
    folder: Path
    database: Path
    parquet: dict[str, Path]
    rows: dict[str, int]
    as_of: str


def publish(warehouse: Path, folder: Path, marts: tuple[str, ...] = PUBLISHED_MARTS) -> Publication:
    """Copy the audited marts of `warehouse` into `folder`, replacing the last publication."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parquet").mkdir(exist_ok=True)
    staging_db = folder / f".{PUBLISHED_DB}.{os.getpid()}.tmp"
    staging_db.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    staged_parquet: dict[str, Path] = {}
    with duckdb.connect(str(staging_db)) as con:
        con.execute("attach ? as warehouse (read_only)", [str(warehouse)])
        for mart in marts:
            con.execute(f"create table main.{mart} as select * from warehouse.main.{mart}")
            rows[mart] = con.execute(f"select count(*) from main.{mart}").fetchone()[0]
            staged_parquet[mart] = folder / "parquet" / f".{mart}.{os.getpid()}.tmp"
            con.execute(f"copy main.{mart} to '{staged_parquet[mart]}' (format parquet)")
        as_of = con.execute(f"select cast(max(as_of) as varchar) from main.{marts[0]}").fetchone()[
            0
        ]
        con.execute("detach warehouse")
    for path in [staging_db, *staged_parquet.values()]:
        _fsync(path)
    final_parquet = {m: folder / "parquet" / f"{m}.parquet" for m in marts}
    for mart, staged in staged_parquet.items():
        os.replace(staged, final_parquet[mart])
    os.replace(staging_db, folder / PUBLISHED_DB)
    manifest = {
        "published_at": datetime.now(UTC).isoformat(),
        "as_of": as_of,
        "rows": rows,
        "database": PUBLISHED_DB,
        "parquet": {m: f"parquet/{m}.parquet" for m in marts},
    }
    _write_atomically(folder / "publication.json", json.dumps(manifest, indent=2))
    return Publication(folder, folder / PUBLISHED_DB, final_parquet, rows, str(as_of))


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _write_atomically(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(text)
    _fsync(staged)
    os.replace(staged, path)
