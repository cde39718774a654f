"""Where a source's pull stands: the cursor of the last page whose files are all on disk.

The cursor is committed (`landing/.pull-state/<source>.json`, replaced atomically) only after
every file of a page is on disk, so a pull that fails resumes at the first page not
committed. One pull per source runs at a time: two would race on the same cursor and files.
"""

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ingestion.http_pull.checked_writer import PARTIAL_SUFFIX
from ingestion.http_pull.errors import PullFailed
from warehouse.files import fsync_folder
from warehouse.permissions import make_folders, restricted_opener

STATE_FOLDER = ".pull-state"


def state_path(landing: Path, source: str) -> Path:
    return Path(landing) / STATE_FOLDER / f"{source}.json"


def read_cursor(landing: Path, source: str) -> str | None:
    """The cursor committed by the last page pulled for `source`, None before the first."""
    path = state_path(landing, source)
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        cursor = state["cursor"]
    except (ValueError, KeyError, TypeError) as error:
        raise PullFailed(
            f"the pull's state file {path} is damaged ({error}); delete it to pull everything "
            "the feed has again (files already landed are not ingested twice)"
        ) from None
    if cursor is not None and not isinstance(cursor, str):
        raise PullFailed(f"the pull's state file {path} holds no valid cursor; delete it")
    return cursor


def commit_cursor(landing: Path, source: str, cursor: str, base_url: str) -> None:
    """Replace the state file in one step: a crash leaves the old cursor or the new one."""
    path = state_path(landing, source)
    make_folders(path.parent)
    state = {
        "source": source,
        "cursor": cursor,
        "feed": base_url,
        "committed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}")
    try:
        with open(temporary, "x", encoding="utf-8", opener=restricted_opener) as out:
            json.dump(state, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        fsync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive(landing: Path, source: str) -> Iterator[None]:
    """One pull per source at a time: two would race on the same cursor and files."""
    lock_path = state_path(landing, source).with_suffix(".lock")
    make_folders(lock_path.parent)
    with open(lock_path, "a", opener=restricted_opener) as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PullFailed(
                f"another pull for source {source!r} is running (it holds {lock_path})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
