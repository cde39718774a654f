"""Who may open what the pipeline writes: its owner and a group, never every local user.

The warehouse, the publication, the exports, reports and alerts, and pulled extracts hold
pupil data (docs/security.md). One setting, ATTENDANCE_UMASK (octal, default 027: files
0640, folders 0750), applies two ways:

- as the process umask, set by every entry point that writes (the `attendance` command, each
  task function of pipeline/daily.py and pipeline/downstream.py, the bench): DuckDB, pyarrow,
  dbt and Great Expectations create their files themselves, under the umask;
- as the explicit mode of the files and folders the project's own helpers create
  (`make_folders`, `restricted_opener`, `restrict`), so that those are right even when a
  caller forgot the umask.

A value that would leave a file open to other users (its last digit not 7), that would take
the owner's own rights away (its first digit not 0) or that is not octal is refused with
BadUmask, which names the variable and what to give instead: the files hold pupil data, so
a loose setting is an error, not a warning.

Files and folders that already exist keep their bits, with two exceptions that cost one
`stat` each: the warehouse folder itself (whenever a step takes its lock) and a DuckDB file
opened for writing lose the bits the umask removes. Others can then reach nothing below an
old warehouse folder, whatever its files' own bits.
"""

import functools
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

UMASK_ENV = "ATTENDANCE_UMASK"
DEFAULT_UMASK = 0o027
# Used for the explicit modes when the setting is refused (the step itself fails at its
# start): a bad value never loosens anything, and the failure's alert is still written.
STRICTEST_UMASK = 0o077
_OCTAL = re.compile(r"(0o)?[0-7]{1,4}")

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


class BadUmask(ValueError):
    """ATTENDANCE_UMASK is not octal, or would open files to others or close them to the owner."""


def configured_umask(environ: dict[str, str] | None = None) -> int:
    """The umask ATTENDANCE_UMASK gives (default 027); raises BadUmask on a refused value."""
    raw = (os.environ if environ is None else environ).get(UMASK_ENV, "").strip()
    if not raw:
        return DEFAULT_UMASK
    advice = "give three octal digits such as 027 (the default: files 0640, folders 0750) or 077"
    if not _OCTAL.fullmatch(raw.lower()) or int(raw.lower().removeprefix("0o"), 8) > 0o777:
        raise BadUmask(f"{UMASK_ENV}={raw!r} is not a umask: {advice}")
    mask = int(raw.lower().removeprefix("0o"), 8)
    if mask & 0o007 != 0o007:
        raise BadUmask(
            f"{UMASK_ENV}={raw!r} would let every local user open files holding pupil data "
            f"(files {0o666 & ~mask:04o}): its last digit must be 7; {advice}"
        )
    if mask & 0o700:
        raise BadUmask(
            f"{UMASK_ENV}={raw!r} would take the pipeline's own rights to its files away "
            f"(files {0o666 & ~mask:04o}): its first digit must be 0; {advice}"
        )
    return mask


def _mask_for_modes() -> int:
    try:
        return configured_umask()
    except BadUmask:
        return STRICTEST_UMASK


def file_mode() -> int:
    """The bits of a new file: 0640 by default."""
    return 0o666 & ~_mask_for_modes()


def folder_mode() -> int:
    """The bits of a new folder: 0750 by default."""
    return 0o777 & ~_mask_for_modes()


def apply_umask() -> int:
    """Set the process umask from ATTENDANCE_UMASK for the rest of the process (the command
    line, the bench); returns it. Raises BadUmask on a refused value."""
    mask = configured_umask()
    os.umask(mask)
    return mask


@contextmanager
def pipeline_umask() -> Iterator[int]:
    """The process umask from ATTENDANCE_UMASK while the block runs, then the caller's again."""
    mask = configured_umask()
    previous = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(previous)


def with_pipeline_umask(function: Callable[P, R]) -> Callable[P, R]:
    """A task function that runs under `pipeline_umask` (whoever calls it: Airflow, the
    command line's DAG runs, the tests, the bench)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with pipeline_umask():
            return function(*args, **kwargs)

    return wrapper


def restricted_opener(path: str | os.PathLike[str], flags: int) -> int:
    """For `open(path, mode, opener=restricted_opener)`: a file it creates gets `file_mode`."""
    return os.open(path, flags, file_mode())


def make_folders(path: Path) -> Path:
    """`path` and its missing parents, each created with `folder_mode` (existing ones are
    left as they are)."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=folder_mode(), exist_ok=True)
    path.mkdir(mode=folder_mode(), exist_ok=True)
    return path


def restrict(path: Path) -> Path:
    """Give a file the pipeline has just made (through DuckDB, before renaming it into place)
    exactly `file_mode`, or a folder `folder_mode` (keeping its set-group-ID bit, by which
    what is made in it takes the folder's group)."""
    if Path(path).is_dir():
        os.chmod(path, folder_mode() | (os.stat(path).st_mode & stat.S_ISGID))
    else:
        os.chmod(path, file_mode())
    return path


def tighten(path: Path) -> None:
    """Take from an existing file or folder the bits the umask removes (never add any); a
    path the process does not own is left as it is, with a warning."""
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    tightened = current & ~_mask_for_modes()
    if tightened == current:
        return
    try:
        os.chmod(path, tightened)
    except PermissionError:
        log.warning(
            "%s is open to others (%04o) and this process may not change it: protect it, "
            "or its folder, by hand",
            path,
            current,
        )
