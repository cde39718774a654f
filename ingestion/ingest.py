"""Ingest a landing folder of register extracts into the warehouse's event store.

Files land in rounds of many files (`ingest_landing`), each round one transaction: its files'
events, quarantined rows and audit rows land together or not at all, so after a failure each
file is either wholly ingested or not at all (and is read again by the next run). A file
already ingested (same path, same bytes) is skipped.
"""

import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb

from ingestion.contract import KINDS
from ingestion.event_store import MARK_STREAM, STREAMS, append_news, create_store
from ingestion.intake import Intake
from ingestion.landing import scan_landing
from ingestion.limits import Limits
from ingestion.records import FileOutcome, LoadSummary, Quarantined, record_files
from ingestion.round_reader import read_round
from ingestion.rounds import (
    WINDOW_FILES,
    WINDOW_ROWS,
    Window,
    read_ahead,
    refused_link,
    take_new_file,
)
from ingestion.rules.checks import check_rows
from warehouse.connect import connect

log = logging.getLogger(__name__)

__all__ = ["FileOutcome", "LoadSummary", "ingest_landing"]


def ingest_landing(
    landing: Path,
    database: Path,
    load_id: str | None = None,
    progress: Callable[[str], None] = log.info,
    window_files: int = WINDOW_FILES,
    window_rows: int = WINDOW_ROWS,
    limits: Limits | None = None,
) -> LoadSummary:
    """Ingest every new file under `landing` into the DuckDB warehouse at `database`.

    Files are taken in `find_extract_files` order, a window of them at a time, and land in
    rounds (`Window`): a round's files are read and checked together, placed in each event
    stream with one pass, and committed in one transaction with their quarantine and audit
    rows, so after a failure each file is wholly ingested or not at all. The result is the
    same as ingesting the files one at a time in that order, which `window_files=1` does.
    One file's failure (unreadable, over a limit, a link) is that file's alone."""
    landing = landing.resolve()
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    limits = limits or Limits.from_environment()
    summary = LoadSummary(load_id or f"load-{uuid.uuid4().hex[:12]}")
    files, links = scan_landing(landing)
    database.parent.mkdir(parents=True, exist_ok=True)
    with connect(database) as con, _staging_folder(database) as staging:
        create_store(con)
        seen: dict[str, set[str]] = {}
        for path, sha256 in con.execute("select path, sha256 from ops.ingest_audit").fetchall():
            seen.setdefault(path, set()).add(sha256)
        window = Window()
        for link in links:
            refused = refused_link(landing, link)
            if refused.outcome.sha256 in seen.get(refused.outcome.path, ()):
                summary.files_already_ingested += 1
            else:
                window.add(refused)
        take = partial(take_new_file, landing, staging, limits, seen)
        for number, intake in enumerate(read_ahead(files, take), start=1):
            if intake is None:
                summary.files_already_ingested += 1
                continue
            if window.files and (
                len(window.files) >= window_files or window.rows + intake.data_lines > window_rows
            ):
                _land_window(con, window, summary, limits, progress)
                window = Window()
            window.add(intake)
            if number % 50 == 0 or number == len(files):
                progress(f"ingest: {number}/{len(files)} files looked at")
        _land_window(con, window, summary, limits, progress)
    progress(summary.describe())
    return summary


@contextmanager
def _staging_folder(database: Path) -> Iterator[Path]:
    """A private folder beside the warehouse for the decompressed copies a round reads."""
    folder = Path(tempfile.mkdtemp(prefix=".ingest-", dir=database.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _land_window(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    summary: LoadSummary,
    limits: Limits,
    progress: Callable[[str], None],
) -> None:
    try:
        for members in window.rounds():
            _land_round(con, members, summary.load_id, limits)
    finally:
        for intake in window.files:
            if intake.staged is not None:
                intake.staged.unlink(missing_ok=True)
    for intake in window.files:
        summary.files.append(intake.outcome)
        if intake.outcome.rejected:
            progress(f"rejected {intake.outcome.path}: {intake.outcome.reason}")


def _land_round(
    con: duckdb.DuckDBPyConnection, members: list[Intake], load_id: str, limits: Limits
) -> None:
    """Read and check each kind's files (outside the transaction: a file DuckDB cannot read
    must not abort it), then append and record the round in one transaction."""
    quarantined: dict[int, list[Quarantined]] = {id(m): [] for m in members}
    checked = []
    for kind in KINDS:
        files = [m for m in members if m.extract.kind is kind and not m.outcome.rejected]
        if not files:
            continue
        read = read_round(con, kind, files, limits)
        for number, reason in read.rejected.items():
            files[number].outcome.rejected, files[number].outcome.reason = True, reason
        for number, rows in read.rows_read.items():
            files[number].outcome.rows_read = rows
        for number, problems in read.problems.items():
            quarantined[id(files[number])] += [Quarantined(ln, why, "{}") for ln, why in problems]
        check_rows(con, kind, "landed_rows", datetime.now(UTC), limits.dates)
        for number, line, reason, raw in con.execute(
            "select file_no, line, reason, raw_record from quarantined"
        ).fetchall():
            quarantined[id(files[number])].append(Quarantined(line, reason, raw))
        con.execute(f"create or replace temp table incoming_{kind.name} as from incoming")
        checked.append((kind, files))
    con.begin()
    try:
        for kind, files in checked:
            _append_kind(con, kind.name, files, quarantined, load_id)
        for intake in members:
            found = [] if intake.outcome.rejected else quarantined[id(intake)]
            intake.outcome.rows_quarantined = len(found)
            quarantined[id(intake)] = sorted(found, key=lambda q: q.line)
        record_files(con, [(m.outcome, quarantined[id(m)]) for m in members], load_id)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _append_kind(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    files: list[Intake],
    quarantined: dict[int, list[Quarantined]],
    load_id: str,
) -> None:
    """Append the news among a round's valid rows of one kind (`incoming_<kind>`)."""
    incoming = f"incoming_{kind}"
    stream = STREAMS[kind]
    if stream is MARK_STREAM:
        for number, orphan in _marks_for_pupils_never_on_roll(con, incoming):
            quarantined[id(files[number])].append(orphan)
    valid = dict(
        con.execute(f"select file_no, count(*) from {incoming} group by file_no").fetchall()
    )
    news = [0] * len(files)
    if valid:
        news = append_news(con, stream, incoming, load_id, [f.outcome.path for f in files])
    for number, intake in enumerate(files):
        intake.outcome.rows_new = news[number]
        intake.outcome.rows_duplicate = valid.get(number, 0) - news[number]
    con.execute(f"drop table {incoming}")


def _marks_for_pupils_never_on_roll(
    con: duckdb.DuckDBPyConnection, incoming: str
) -> list[tuple[int, Quarantined]]:
    """Take out of `incoming` the marks of pupils never on roll: (file_no, quarantined row)."""
    orphans = con.execute(
        f"""
        select file_no, line, urn, upn, session_date, session, code from {incoming} as i
        where not exists (
            select 1 from events.pupil_events as p where p.urn = i.urn and p.upn = i.upn
        )
        order by file_no, line
        """
    ).fetchall()
    if orphans:
        con.execute(
            f"""
            delete from {incoming} as i where not exists (
                select 1 from events.pupil_events as p where p.urn = i.urn and p.upn = i.upn
            )
            """
        )
    return [
        (
            number,
            Quarantined(
                line,
                f"pupil {upn} has never been on roll at school {urn} (no pupils row for them): "
                "send the pupil's pupils row or correct the UPN",
                json.dumps(
                    {
                        "code": code or "",
                        "session": session,
                        "session_date": str(day),
                        "upn": upn,
                        "urn": urn,
                    }
                ),
            ),
        )
        for number, line, urn, upn, day, session, code in orphans
    ]
