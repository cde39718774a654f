"""Which disk a run found full, in words the person who must free it can act on.

A full disk stops a run wherever it writes next (DuckDB, dbt's artefacts, the log, the
alerts file); the log and the alerts are usually on that disk too, so the reason is lost
unless the run's terminal says it. Here: whether a failure is, or may be, a full disk, and
which of the run's folders lie on one (by mount point, free and total space).
"""

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Less free space than this on a disk the run writes to is taken as full: a build writes
# more than this (dbt's artefacts alone), so the failure is most likely the disk's.
LOW_SPACE_BYTES = 64 * 1024 * 1024
NO_SPACE_TEXT = "no space left on device"


@dataclass(frozen=True)
class FullDisk:
    purpose: str
    path: Path
    mount_point: Path
    free_bytes: int
    total_bytes: int

    def describe(self) -> str:
        return (
            f"the disk mounted at {self.mount_point}, which holds the {self.purpose} "
            f"{self.path}, is full ({_size(self.free_bytes)} free of {_size(self.total_bytes)})"
        )


def says_no_space(failure: BaseException) -> bool:
    """Whether the failure, or an error it was raised from, is a write that found no space
    (an OSError ENOSPC, or DuckDB's and dbt's messages, which carry only its text)."""
    seen: set[int] = set()
    error: BaseException | None = failure
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if NO_SPACE_TEXT in str(error).lower():
            return True
        error = error.__cause__ or error.__context__
    return False


def full_disks(folders: Iterable[tuple[str, Path]], *, certain: bool) -> list[FullDisk]:
    """The disks among `folders` (purpose, path) that are full, each named once: those with
    less than LOW_SPACE_BYTES free, or when the failure is `certain`ly a full disk and no
    folder is that low, the one with least space free (space is often freed again as the
    failed step's files are removed)."""
    disks: dict[Path, FullDisk] = {}
    for purpose, path in folders:
        existing = _existing(path)
        if existing is None:
            continue
        mount = mount_point(existing)
        if mount in disks:
            continue
        usage = os.statvfs(existing)
        disks[mount] = FullDisk(
            purpose,
            path,
            mount,
            usage.f_bavail * usage.f_frsize,
            usage.f_blocks * usage.f_frsize,
        )
    low = [disk for disk in disks.values() if disk.free_bytes < LOW_SPACE_BYTES]
    if low or not certain or not disks:
        return low
    return [min(disks.values(), key=lambda disk: disk.free_bytes)]


def mount_point(path: Path) -> Path:
    """The mount point of the file system holding `path` (an existing path)."""
    current = path.resolve()
    while not os.path.ismount(current):
        current = current.parent
    return current


def _existing(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return None


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} bytes"
