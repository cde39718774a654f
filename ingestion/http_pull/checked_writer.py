"""A file put in place only whole and checked: the ingester never sees a partial or damaged one.

A file is streamed to a hidden temporary name, checked against the sha256 the feed listed,
flushed to disk and only then renamed into place. It is read no further than its size limit
(MAX_FILE_BYTES_ENV), so a feed cannot fill the disk with one endless file. It is created with
the file mode of ATTENDANCE_UMASK (0640 by default: warehouse/permissions.py), as extracts
hold pupil data.
"""

import hashlib
import os
import uuid
from pathlib import Path
from typing import BinaryIO

from ingestion.http_pull.config import MAX_FILE_BYTES_ENV
from ingestion.http_pull.errors import Failure
from warehouse.files import fsync_folder
from warehouse.permissions import restricted_opener

PARTIAL_SUFFIX = ".partial"
_CHUNK = 1 << 16


def write_checked(response: BinaryIO, destination: Path, sha256: str, max_bytes: int) -> int:
    """Stream to a hidden temporary file, check size and sha256, flush, rename into place."""
    partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}")
    digest, size = hashlib.sha256(), 0
    try:
        with open(partial, "xb", opener=restricted_opener) as out:
            # Every read that is not the last returns at least a byte: bounded.
            for _ in range(max_bytes + 2):
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(destination.name, max_bytes)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise Failure(
                f"{destination.name} arrived damaged (its sha256 does not match the listing)",
                retryable=True,
            )
        os.replace(partial, destination)
        fsync_folder(destination.parent)
        return size
    finally:
        partial.unlink(missing_ok=True)


def too_large(name: str, max_bytes: int) -> Failure:
    # Not retried, like a checksum that never matches: the pull stops and the page's cursor
    # is not committed, so the file is asked for again once the feed or the limit changes.
    return Failure(
        f"{name} is larger than {max_bytes} bytes ({MAX_FILE_BYTES_ENV}); it was not read "
        "further and nothing of it was kept. Raise the limit if the feed's files really are "
        "that large"
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remove_partials(folder: Path) -> None:
    """Temporary files left by a pull that was killed outright (the lock says none is running)."""
    if folder.is_dir():
        for leftover in folder.rglob(f".*{PARTIAL_SUFFIX}"):
            leftover.unlink(missing_ok=True)
