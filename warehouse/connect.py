"""The memory limit and spill folder of every DuckDB connection the pipeline opens.

DuckDB's default memory limit is 80% of the machine, and a year's session facts sorted or
windowed in one query reach it (W1 day 150 peaked at 19.7 GiB: docs/performance.md). With a
limit, DuckDB spills the large sorts, joins and windows to `temp_directory` instead. One
setting, ATTENDANCE_DUCKDB_MEMORY_LIMIT (default 6GB), is used by ingestion, dbt (through
its profile), the GX audit and publication, so that one morning's run stays under it.
"""

import os
import re
from pathlib import Path

import duckdb

from warehouse.permissions import make_folders, tighten

MEMORY_LIMIT_ENV = "ATTENDANCE_DUCKDB_MEMORY_LIMIT"
TEMP_DIRECTORY_ENV = "ATTENDANCE_DUCKDB_TEMP_DIRECTORY"
DEFAULT_MEMORY_LIMIT = "6GB"
_SIZE = re.compile(r"\d+(\.\d+)?\s*(K|M|G|T)i?B", re.IGNORECASE)


class BadMemoryLimit(ValueError):
    """ATTENDANCE_DUCKDB_MEMORY_LIMIT is not a size DuckDB understands."""


def memory_limit() -> str:
    """The limit from ATTENDANCE_DUCKDB_MEMORY_LIMIT, else 6GB: each DuckDB database's own."""
    value = os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
    if not _SIZE.fullmatch(value):
        raise BadMemoryLimit(
            f"{MEMORY_LIMIT_ENV}={value!r} is not a size: give a number and a unit, such as "
            f"'6GB' or '800MB' (default {DEFAULT_MEMORY_LIMIT})"
        )
    return value


def temp_directory(warehouse_db: Path) -> Path:
    """Where DuckDB spills for the warehouse file: the warehouse's `work/duckdb_temp`.

    Derived from the warehouse file alone, so that every connection to it in one process has
    the same configuration (DuckDB refuses a second one with a different configuration)."""
    return Path(warehouse_db).resolve().parent / "work" / "duckdb_temp"


def settings(warehouse_db: Path) -> dict[str, str]:
    """The DuckDB configuration for a connection working on `warehouse_db`'s data."""
    return {
        "memory_limit": memory_limit(),
        "temp_directory": str(temp_directory(warehouse_db)),
    }


def dbt_environment(warehouse_db: Path) -> dict[str, str]:
    """The variables dbt's profile reads its `config_options` from (dbt_project/profiles.yml)."""
    values = settings(warehouse_db)
    return {
        MEMORY_LIMIT_ENV: values["memory_limit"],
        TEMP_DIRECTORY_ENV: values["temp_directory"],
    }


def connect(
    database: Path, *, read_only: bool = False, warehouse_db: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """Open `database` with the limit; it spills beside `warehouse_db` (default: `database`).

    A file opened for writing is created, or tightened, to ATTENDANCE_UMASK's file mode
    (warehouse/permissions.py), whatever the process umask."""
    config = settings(warehouse_db or database)
    make_folders(Path(config["temp_directory"]))
    con = duckdb.connect(str(database), read_only=read_only, config=config)
    if not read_only:
        tighten(Path(database))
    return con
