"""Data-quality files: per school, what its data manager must fix, ready to send.

`exports/<register day>/data_quality/<urn>.csv` is written for every school with a rejected
file or a quarantined row among the files it covers, one line per problem: the file, the
line (blank for a file rejected whole), `file_rejected` or `row_quarantined`, the reason
and when it was ingested. A file's school is the one its path names (its nearest folder of
six digits), so a school gets the problems of the files it sent and nothing of another's;
problems of files whose path names no school (whole-authority files) go to `la.csv`, for
the LA's own data team.

Each problem is sent once: a day's files cover the files ingested after those the previous
export day covered (its manifest says up to when), through the newest file of the
publication. A file ingested by a run whose audit withheld its publication is covered by
the next export, not lost; re-running a day covers the same files again. Without an
earlier export day they cover every file ever ingested.

The files hold no row values: the reasons repeat only the one value at fault (never a name
or a column the contract does not name: docs/feed.md), and raw records are left out.
"""

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from warehouse.permissions import make_folders, restricted_opener

FOLDER = "data_quality"
LA_FILE = "la.csv"
SOURCES = ("ingest_audit", "quarantine")
COLUMNS = ("urn", "file", "line", "problem", "reason", "ingested_at")
_URN = re.compile(r"[0-9]{6}")
_PROBLEMS = """
    select urn, path as file, null::integer as line, 'file_rejected' as problem, reason,
        cast(ingested_at as varchar) as ingested_at
    from ingest_audit
    where rejected and ingested_at > cast(? as timestamptz)
    union all
    select urn, path as file, line, 'row_quarantined' as problem, reason,
        cast(ingested_at as varchar) as ingested_at
    from quarantine
    where ingested_at > cast(? as timestamptz)
    order by urn nulls last, ingested_at, file, line nulls first
"""
# Before every ingest: "no earlier export" covers every file.
_BEGINNING = "0001-01-01 00:00:00+00"


@dataclass(frozen=True)
class Coverage:
    """The files a day's data-quality files cover: ingested after `after` (None: since the
    first), through `through` (None: nothing ingested yet)."""

    after: str | None
    through: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"ingested_after": self.after, "ingested_through": self.through}


def previous_coverage_end(exports_root: Path, register_day: date) -> str | None:
    """Up to when the newest export day before `register_day` covered files, from its
    manifest; None when there is none (or it predates data-quality files)."""
    days = []
    for folder in exports_root.glob("????-??-??"):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day < register_day and (folder / "manifest.json").is_file():
            days.append(folder)
    for folder in sorted(days, reverse=True):
        record = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        covered = (record.get(FOLDER) or {}).get("ingested_through")
        if covered:
            return str(covered)
    return None


def write_data_quality(
    con: duckdb.DuckDBPyConnection, folder: Path, after: str | None
) -> tuple[Coverage, dict[str, Any]]:
    """Write `folder/data_quality/<urn>.csv` (and `la.csv`) from the publication open on
    `con` for the problems of files ingested after `after`; their coverage and manifest
    entries (file name below `folder`: description, source, rows)."""
    (through,) = con.execute(
        "select cast(max(ingested_at) as varchar) from ingest_audit"
    ).fetchone()
    coverage = Coverage(after, through)
    problems = con.execute(_PROBLEMS, [after or _BEGINNING, after or _BEGINNING]).fetchall()
    by_file: dict[str, list[tuple[Any, ...]]] = {}
    for row in problems:
        urn = row[0]
        if urn is not None and not _URN.fullmatch(urn):
            raise ValueError(f"ingest_audit names school {urn!r}, which is not a 6-digit URN")
        by_file.setdefault(f"{urn}.csv" if urn else LA_FILE, []).append(row)
    entries: dict[str, Any] = {}
    if not by_file:
        return coverage, entries
    target = make_folders(folder / FOLDER)
    for name, rows in by_file.items():
        with open(
            target / name, "w", encoding="utf-8", newline="", opener=restricted_opener
        ) as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            writer.writerows(_cells(row) for row in rows)
        urn = rows[0][0]
        entries[f"{FOLDER}/{name}"] = {
            "description": (
                f"school {urn}'s rejected files and quarantined rows, for its data manager"
                if urn
                else "rejected files and quarantined rows of files whose path names no school"
            ),
            "source": "ingest_audit, quarantine",
            "rows": len(rows),
            "files_rejected": sum(row[3] == "file_rejected" for row in rows),
            "rows_quarantined": sum(row[3] == "row_quarantined" for row in rows),
        }
    return coverage, entries


def _cells(row: tuple[Any, ...]) -> list[Any]:
    urn, file, line, problem, reason, ingested_at = row
    return [urn or "", file, "" if line is None else line, problem, reason, ingested_at]
