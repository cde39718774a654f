"""One task at a time opens the working warehouse, and a run publishes only the marts it built.

DuckDB lets one process write a database file, and no other process open it, even to read,
while it does. Three things keep the pipeline's runs apart (docs/orchestration.md):

1. The Airflow pool `WAREHOUSE_POOL` (one slot): every task that opens `warehouse.duckdb`
   (ingest, the missing-extract check, dbt build, audit, publish, the report) takes the
   slot, so the scheduler runs them one at a time, whichever DAG run or backfill they
   belong to, and no worker sits waiting on a lock.
2. `warehouse_lock`: an exclusive file lock held by each of those steps while it works. It
   covers what the pool cannot see: `make run`/`make demo` (Airflow's `dag.test()` ignores
   pools), a second Airflow installation, a person running a step by hand.
3. The build stamp: dbt build records which DAG run built the marts; audit and publish
   refuse marts that another run rebuilt in between, so two interleaved runs (a backfill
   next to the daily run) can never publish each other's marts under the wrong day.
"""

import errno
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WAREHOUSE_POOL = "attendance_warehouse"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = (
    "One task at a time opens the attendance warehouse (DuckDB: one writer, no reader "
    "beside it). Keep it at 1 slot."
)
LOCK_FILE = ".warehouse.lock"
STAMP_FILE = "build-stamp.json"
# Long enough for a dbt build of a big authority; a step waiting longer fails and says why.
LOCK_TIMEOUT_SECONDS = 2 * 60 * 60


class WarehouseBusy(Exception):
    """Another process held the warehouse for longer than the lock timeout."""


class MartsRebuiltByAnotherRun(Exception):
    """The marts were rebuilt by another DAG run after this run built them."""


@contextmanager
def warehouse_lock(
    warehouse: Path, timeout: float = LOCK_TIMEOUT_SECONDS, poll: float = 0.5
) -> Iterator[None]:
    """Hold the warehouse folder's exclusive lock (waiting up to `timeout` seconds for it)."""
    warehouse.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with (warehouse / LOCK_FILE).open("a") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"the warehouse {warehouse} was busy for {timeout:.0f} s: another "
                        "pipeline step holds its lock"
                    ) from None
                time.sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_build_stamp(work: Path, run_id: str, as_of: str | None) -> None:
    """Record that the marts in the warehouse are `run_id`'s build (atomically)."""
    work.mkdir(parents=True, exist_ok=True)
    staged = work / f".{STAMP_FILE}.tmp"
    staged.write_text(json.dumps({"run_id": run_id, "as_of": as_of}))
    os.replace(staged, work / STAMP_FILE)


def clear_build_stamp(work: Path) -> None:
    (work / STAMP_FILE).unlink(missing_ok=True)


def check_build_stamp(work: Path, run_id: str) -> dict[str, str | None]:
    """The build stamp (run_id, as_of); raises unless the marts are the ones `run_id` built."""
    path = work / STAMP_FILE
    stamp = json.loads(path.read_text()) if path.exists() else {}
    built_by = stamp.get("run_id")
    if built_by != run_id:
        raise MartsRebuiltByAnotherRun(
            f"the marts in the warehouse are not this run's build (built by "
            f"{built_by or 'an unfinished or failed build'}, this run is {run_id}): another "
            "run rebuilt them in between. Nothing was published by this run; re-run it "
            "(re-running a day is safe)."
        )
    return stamp


def ensure_pool() -> None:
    """Create or update the warehouse pool in Airflow's metadata database (idempotent)."""
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        Pool.create_or_update_pool(
            WAREHOUSE_POOL,
            slots=WAREHOUSE_POOL_SLOTS,
            description=WAREHOUSE_POOL_DESCRIPTION,
            include_deferred=False,
            session=session,
        )
