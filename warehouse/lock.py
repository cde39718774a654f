"""One step at a time opens the working warehouse: an exclusive lock on its folder.

DuckDB lets one process write a database file, and no other process open it, even to read,
while it does. Three things keep the pipeline's runs apart (docs/orchestration.md): the
Airflow pool of the warehouse tasks (pipeline/pool.py), this lock, and the build stamp
(warehouse/build_stamp.py).

The lock is held by each step while it has the file open. It covers what the pool cannot
see: `make run`/`make demo` (Airflow's `dag.test()` ignores pools), a second Airflow
installation, a person running a step by hand.
"""

import errno
import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.permissions import make_folders, restricted_opener, tighten

LOCK_FILE = ".warehouse.lock"
# Long enough for a dbt build of a big authority; a step waiting longer fails and says why.
LOCK_TIMEOUT_SECONDS = 2 * 60 * 60


class WarehouseBusy(Exception):
    """Another process held the warehouse for longer than the lock timeout."""


@contextmanager
def warehouse_lock(
    warehouse: Path, timeout: float = LOCK_TIMEOUT_SECONDS, poll: float = 0.5
) -> Iterator[None]:
    """Hold the warehouse folder's exclusive lock (waiting up to `timeout` seconds for it).

    The folder is made, or an existing one tightened, to ATTENDANCE_UMASK's folder mode: every
    step that writes the warehouse takes this lock, so others cannot reach into an older
    warehouse whose files were written open to them (warehouse/permissions.py)."""
    make_folders(warehouse)
    tighten(warehouse)
    deadline = time.monotonic() + timeout
    with open(warehouse / LOCK_FILE, "a", opener=restricted_opener) as handle:
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
