"""Files replaced in one step: a reader sees the old file or the new one, never half of one.

A file is written beside its final place under a hidden temporary name, flushed to disk and
renamed over it; the folder is flushed too, so that the rename survives a power cut. The
file and any folder made for it get the modes of ATTENDANCE_UMASK (warehouse/permissions.py),
whatever the process umask.
"""

import os
from pathlib import Path

from warehouse.permissions import make_folders, restrict, restricted_opener


def fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def fsync_folder(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def staged_path(path: Path) -> Path:
    """The hidden temporary name `path` is written under before it is renamed into place
    (with the process id, so that two writers never share one)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_text_atomically(path: Path, text: str) -> Path:
    """Write `text` to `path` in one step (creating its folder)."""
    make_folders(path.parent)
    staged = staged_path(path)
    with open(staged, "w", encoding="utf-8", opener=restricted_opener) as out:
        out.write(text)
    # A leftover staged file of a killed writer with this process id kept its own bits.
    restrict(staged)
    fsync_file(staged)
    os.replace(staged, path)
    fsync_folder(path.parent)
    return path
