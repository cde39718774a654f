"""CSV extracts for the register day, written from the published marts (never the warehouse).

`WAREHOUSE/exports/<register day>/` holds, for that day's publication:

- `action_list.csv`: the attendance hub's pupil-level action list, `pupils_for_support`,
  in priority order with its reasons in words (restricted: it names pupils by UPN), and
  `offsite_provision.csv`: each school's K and B sessions and part-time timetables
  (serving/action_list/export.py).
- `children_missing_education.csv`: children who may be missing education, for the LA's
  CME officer, those past the window (`listed`) first, longest off roll first (restricted:
  it names pupils by UPN).
- `school_daily_attendance.csv`: each school's figures for the register day, from
  `school_daily_attendance`.
- `data_quality/<urn>.csv` (and `data_quality/la.csv`): per school, the rejected files and
  quarantined rows of the files the day covers, for its data manager
  (serving/data_quality.py).
- `manifest.json`: which publication (version, as_of, published_at) the files came from,
  their rows, which ingested files the data-quality files cover, and any export skipped
  because its mart is not in the publication.

The folder is written beside its final place and renamed into it, so re-running a day
replaces that day's exports whole. Its files and folders get ATTENDANCE_UMASK's modes (0640
and 0750 by default: warehouse/permissions.py) before the rename.
"""

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from publication.record import read_record
from serving.action_list.export import (
    ACTION_LIST,
    ACTION_LIST_COLUMNS,
    ACTION_LIST_SOURCES,
    OFFSITE,
    OFFSITE_COLUMNS,
    OFFSITE_SOURCES,
    action_list_rows,
    offsite_rows,
    write_csv,
)
from serving.data_quality import FOLDER, SOURCES, previous_coverage_end, write_data_quality
from warehouse.permissions import make_folders, restrict

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Export:
    file: str
    description: str
    mart: str
    # Reads `mart` in the published DuckDB file; `$day` stands for the register day.
    query: str


EXPORTS = (
    Export(
        "children_missing_education.csv",
        "children who may be missing education, for the LA's CME officer (restricted)",
        "children_missing_education",
        "select * from children_missing_education "
        "order by status = 'watch', school_days_since desc, urn, upn",
    ),
    Export(
        "school_daily_attendance.csv",
        "each school's attendance on the register day",
        "school_daily_attendance",
        "select * from school_daily_attendance where session_date = $day order by urn",
    ),
)


def write_exports(published: Path, exports_root: Path, register_day: date) -> dict[str, Any]:
    """Write the register day's exports from the publication in `published`; their manifest."""
    publication = read_record(published)
    if publication is None:
        raise FileNotFoundError(f"there is no publication in {published}: nothing to export")
    database = published / publication.database
    final = exports_root / register_day.isoformat()
    staging = exports_root / f".{register_day.isoformat()}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    make_folders(staging)
    files: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        for export in EXPORTS:
            if export.mart not in tables:
                skipped[export.file] = f"not written: {export.mart} is not published"
                continue
            target = staging / export.file
            # The register day is a date, so its literal is safe to put in the query.
            query = export.query.replace("$day", f"date '{register_day.isoformat()}'")
            rows = con.execute(f"copy ({query}) to '{target}' (format csv, header)").fetchone()[0]
            files[export.file] = {
                "description": export.description,
                "source": export.mart,
                "rows": rows,
            }
        for name, description, sources, columns, make in (
            (
                ACTION_LIST,
                "the attendance hub's action list, most urgent first, with the reasons "
                "(restricted)",
                ACTION_LIST_SOURCES,
                ACTION_LIST_COLUMNS,
                action_list_rows,
            ),
            (
                OFFSITE,
                "each school's K and B sessions and part-time timetables (restricted)",
                OFFSITE_SOURCES,
                OFFSITE_COLUMNS,
                offsite_rows,
            ),
        ):
            missing = [source for source in sources if source not in tables]
            if missing:
                verb = "is" if len(missing) == 1 else "are"
                skipped[name] = f"not written: {' and '.join(missing)} {verb} not published"
                continue
            files[name] = {
                "description": description,
                "source": ", ".join(sources),
                "rows": write_csv(staging / name, columns, make(con)),
            }
        coverage = None
        if set(SOURCES) <= tables:
            after = previous_coverage_end(exports_root, register_day)
            coverage, written = write_data_quality(con, staging, after)
            files.update(written)
        else:
            skipped[f"{FOLDER}/"] = f"not written: {' and '.join(SOURCES)} are not published"
    record = {
        "register_day": register_day.isoformat(),
        "written_at": datetime.now(UTC).isoformat(),
        "publication": {
            "version": publication.version,
            "as_of": publication.as_of,
            "published_at": publication.published_at,
        },
        "files": files,
        "skipped": skipped,
    }
    if coverage is not None:
        record[FOLDER] = coverage.as_dict()
    (staging / MANIFEST).write_text(json.dumps(record, indent=2) + "\n")
    for path in [*staging.rglob("*"), staging]:
        restrict(path)
    _replace_folder(staging, final)
    return {"folder": str(final), **record}


def _replace_folder(staging: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)
