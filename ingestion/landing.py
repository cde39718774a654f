"""The landing folder's layout: which files are extracts, whose, and when they were taken.

Extracts land as `<landing>/.../<urn>/<stamp>/<kind>.<format>` (the extract contract's example:
`landing/100001/2025-09-15T16-05-00Z/marks.csv`; pulled extracts one folder deeper, under
their source). The school's URN is the nearest folder named by six digits, the extract's
time its folder's stamp. Everything that reads that layout (the ingester, the
missing-extract check, the HTTP pull, the reference feed, the generator) reads it here.
"""

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingestion.contract import KINDS, FileKind, kind_of

URN = re.compile(r"[0-9]{6}")
# Extract folders named like the extract contract's example: 2025-09-15T16-05-00Z
STAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{4})?"
)
STAMP_FORMAT = "%Y-%m-%dT%H-%M-%SZ"


@dataclass(frozen=True)
class ExtractFile:
    path: Path
    kind: FileKind


def find_extract_files(landing: Path) -> list[ExtractFile]:
    """Every register extract file at any depth below `landing`, oldest extract folder first.

    Within one folder, schools come before pupils before marks, so that a mark's pupil is
    already known when the mark is checked. Symbolic links are not among them, nor looked
    into (`find_links`).
    """
    return scan_landing(landing)[0]


def find_links(landing: Path) -> list[Path]:
    """The symbolic links below `landing` that an extract could hide behind: links to a
    folder, and links named like an extract. They are refused, never followed."""
    return scan_landing(landing)[1]


def scan_landing(landing: Path) -> tuple[list[ExtractFile], list[Path]]:
    rank = {kind.name: i for i, kind in enumerate(KINDS)}
    found, links = [], []
    for folder, folders, files in os.walk(landing, followlinks=False):
        here = Path(folder)
        for name in folders:
            if (here / name).is_symlink():
                links.append(here / name)
        for name in files:
            path, kind = here / name, kind_of(name)
            if kind is None:
                continue
            if path.is_symlink():
                links.append(path)
            else:
                found.append(ExtractFile(path, kind))
    found.sort(key=lambda f: (str(f.path.parent), rank[f.kind.name], f.path.name))
    return found, sorted(links)


def stamp_of(moment: datetime) -> str:
    """The extract folder name for an extract taken at `moment`."""
    return moment.astimezone(UTC).strftime(STAMP_FORMAT)


def stamp_time(name: str) -> datetime | None:
    """When an extract folder named `name` was taken; None if it is not a stamp."""
    match = STAMP.fullmatch(name)
    if not match:
        return None
    day, hh, mm, ss, offset = match.groups()
    offset = "+00:00" if offset in (None, "Z") else f"{offset[:3]}:{offset[3:]}"
    try:
        return datetime.fromisoformat(f"{day}T{hh}:{mm}:{ss}{offset}")
    except ValueError:
        return None  # shaped like a stamp, but no moment (a 13th month): not a stamp


def extract_time_of(path: Path) -> datetime:
    """When the extract holding `path` was taken: its folder's stamp, else the file's
    modification time (schools rows carry no timestamp of their own)."""
    for part in reversed(path.parent.parts):
        taken = stamp_time(part)
        if taken is not None:
            return taken
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def urn_of_path(path: str | Path) -> str | None:
    """The school a file's path names: its nearest folder of six digits, if any."""
    for part in reversed(Path(path).parent.parts):
        if URN.fullmatch(part):
            return part
    return None
