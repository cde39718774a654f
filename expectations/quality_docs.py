"""The quality pages' folder (WAREHOUSE/quality/data_docs): the last N audits, nothing else.

After each audit is recorded in ops.quality_runs, the folder is brought in line with the
record: `index.html` (the latest audit in full and a list of the kept ones) and one page per
kept audit in `runs/`, named by the audit's time. A kept audit's page is written once (the
record of a past audit does not change); pages of older audits are deleted, and so are the
folders Great Expectations' Data Docs left there before this page replaced them, writers'
leftover temporary files, and any folder left empty. The folder is therefore the same
function of the record whatever happened before, and never grows past N pages.

N is ATTENDANCE_QUALITY_RUNS_KEPT (default 30: six school weeks of daily runs). The pages
hold what ops.quality_runs holds, samples included (restricted): they are written with the
modes of ATTENDANCE_UMASK.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import duckdb

from expectations.quality_page import (
    RecordedAudit,
    RecordedCheck,
    render_index,
    render_run_page,
)
from warehouse.connect import connect
from warehouse.files import write_text_atomically

RUNS_KEPT_ENV = "ATTENDANCE_QUALITY_RUNS_KEPT"
DEFAULT_RUNS_KEPT = 30
INDEX = "index.html"
RUNS = "runs"
# What Great Expectations' Data Docs wrote here (until this page replaced them): their pages,
# with samples, and one empty folder per validation result they ever stored.
GX_DATA_DOCS_FOLDERS = ("validations", "expectations", "static")

log = logging.getLogger(__name__)


class BadRunsKept(ValueError):
    """ATTENDANCE_QUALITY_RUNS_KEPT is not a whole number of at least 1."""


def runs_kept(environ: dict[str, str] | None = None) -> int:
    """How many audits' pages are kept: ATTENDANCE_QUALITY_RUNS_KEPT, else 30."""
    raw = (os.environ if environ is None else environ).get(RUNS_KEPT_ENV, "").strip()
    if not raw:
        return DEFAULT_RUNS_KEPT
    if not raw.isdigit() or int(raw) < 1:
        raise BadRunsKept(
            f"{RUNS_KEPT_ENV}={raw!r} is not a number of audits to keep: give a whole number "
            f"of at least 1 (default {DEFAULT_RUNS_KEPT}, six school weeks of daily runs)"
        )
    return int(raw)


def write_quality_pages(database: Path, folder: Path) -> Path:
    """Bring `folder` in line with the last N audits recorded in `database`'s
    ops.quality_runs (see the module's description); returns the index page."""
    kept = runs_kept()
    folder = Path(folder)
    with connect(database, read_only=True) as con:
        audits = _latest_audits(con, kept)
        checks = {audit.page_name: _checks(con, audit) for audit in audits}
    runs = folder / RUNS
    for audit in audits:
        page = runs / audit.page_name
        if not page.is_file():
            write_text_atomically(page, render_run_page(audit, checks[audit.page_name]))
    index = write_text_atomically(
        folder / INDEX,
        render_index(audits, checks[audits[0].page_name] if audits else (), kept),
    )
    _remove_all_but(folder, {runs / audit.page_name for audit in audits} | {index})
    return index


def _latest_audits(con: duckdb.DuckDBPyConnection, kept: int) -> list[RecordedAudit]:
    if not _has_record(con):
        return []
    rows = con.execute(
        """
        select
            run_id,
            checked_at,
            count(*),
            count(*) filter (where not success and severity = 'critical'),
            count(*) filter (where not success and severity = 'warning'),
            count(*) filter (where not success and severity = 'info')
        from ops.quality_runs
        group by run_id, checked_at
        order by checked_at desc, run_id
        limit ?
        """,
        [kept],
    ).fetchall()
    return [RecordedAudit(*row) for row in rows]


def _checks(con: duckdb.DuckDBPyConnection, audit: RecordedAudit) -> list[RecordedCheck]:
    # rowid keeps the order the audit recorded them in: suite by suite, as the suites list them.
    rows = con.execute(
        """
        select suite, expectation, column_name, severity, success, unexpected_count,
               observed_value, description, error, sample
        from ops.quality_runs
        where run_id = ? and checked_at = ?
        order by rowid
        """,
        [audit.run_id, audit.checked_at],
    ).fetchall()
    return [RecordedCheck(*row) for row in rows]


def _has_record(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'ops' and table_name = 'quality_runs'"
        ).fetchone()[0]
    )


def _remove_all_but(folder: Path, wanted: set[Path]) -> None:
    """Delete every file under `folder` that is not `wanted`, then every empty folder."""
    for name in GX_DATA_DOCS_FOLDERS:
        if (folder / name).is_dir():
            log.info("removing Great Expectations' old Data Docs in %s", folder / name)
            shutil.rmtree(folder / name)
    removed = 0
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_symlink() or path.is_file():
            if path not in wanted:
                path.unlink()
                removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if removed:
        log.info("removed %d quality pages and leftovers older than the last kept audits", removed)
