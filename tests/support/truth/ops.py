"""What the operational tables and data-quality files must say about the files a test fed
in, computed from the files themselves and the generator's fault plan, never from the
pipeline's own counts."""

import gzip
import re
from pathlib import Path

from ingestion.landing import stamp_of
from synthetic import SyntheticLA
from synthetic.extracts import BAD_MARK_ROWS, BAD_PUPIL_ROWS, BAD_ROW_DAYS

_SIX_DIGITS = re.compile(r"[0-9]{6}")


def data_lines(path: Path) -> int:
    """The rows a generated extract file holds: its lines, less a CSV's header."""
    data = path.read_bytes()
    text = (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8-sig")
    return len(text.splitlines()) - (0 if ".jsonl" in path.name else 1)


def school_of(relative: str) -> str | None:
    """The school a landing path names: its nearest folder of exactly six digits."""
    folders = relative.split("/")[:-1]
    return next((part for part in reversed(folders) if _SIX_DIGITS.fullmatch(part)), None)


def fed_files(landing: Path) -> dict[str, Path]:
    """Every file below `landing`, by its path relative to it."""
    return {str(p.relative_to(landing)): p for p in sorted(landing.rglob("*")) if p.is_file()}


def planned_quarantine(la: SyntheticLA, days: range) -> dict[str, int]:
    """The rows the generator wrote to be quarantined in the extracts of `days`, by file."""
    planned = {}
    for school_index, day_index in BAD_ROW_DAYS:
        if day_index not in days or school_index >= len(la.schools):
            continue
        school = la.schools[school_index]
        folder = f"{school.urn}/{stamp_of(la.extract_time(day_index))}"
        planned[f"{folder}/pupils.{school.file_format}"] = BAD_PUPIL_ROWS
        planned[f"{folder}/marks.{school.file_format}"] = BAD_MARK_ROWS
    return planned


def expected_problems(
    quarantined: dict[str, int], rejected: set[str]
) -> dict[str | None, dict[str, int]]:
    """Per school (None: a path that names none), how many problems each file must show in its
    data-quality file: every quarantined row, and one line for each rejected file."""
    by_school: dict[str | None, dict[str, int]] = {}
    for path, rows in quarantined.items():
        if rows:
            by_school.setdefault(school_of(path), {})[path] = rows
    for path in rejected:
        by_school.setdefault(school_of(path), {})[path] = 1
    return by_school
