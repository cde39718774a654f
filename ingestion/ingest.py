"""Ingest a landing folder of register extracts into the warehouse's event store.

Files land in rounds of many files (`ingest_landing`), each round one transaction: its files'
events, quarantined rows and audit rows land together or not at all, so after a failure each
file is either wholly ingested or not at all (and is read again by the next run). A file
already ingested (same path, same bytes) is skipped.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.contract import FileKind
from ingestion.event_store import MARK_STREAM, STREAMS, append_news, create_store
from ingestion.landing import find_extract_files
from ingestion.records import FileOutcome, LoadSummary, Quarantined, record_files
from ingestion.rounds import (
    WINDOW_FILES,
    WINDOW_ROWS,
    PendingFile,
    Window,
    read_ahead,
    read_new_file,
)
from ingestion.rules.sql_rules import prepare, stage_files
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
) -> LoadSummary:
    """Ingest every new file under `landing` into the DuckDB warehouse at `database`.

    Files are taken in `find_extract_files` order, a window of them at a time, and land in
    rounds (`Window`): a round's files are checked together, placed in each event stream
    with one pass, and committed in one transaction with their quarantine and audit rows,
    so after a failure each file is wholly ingested or not at all. The result is the same
    as ingesting the files one at a time in that order, which `window_files=1` does."""
    landing = landing.resolve()
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    summary = LoadSummary(load_id or f"load-{uuid.uuid4().hex[:12]}")
    files = find_extract_files(landing)
    database.parent.mkdir(parents=True, exist_ok=True)
    with connect(database) as con:
        create_store(con)
        prepare(con)
        seen = frozenset(con.execute("select path, sha256 from ops.ingest_audit").fetchall())
        window = Window()
        reads = read_ahead(files, lambda extract: read_new_file(landing, extract, seen))
        for number, read in enumerate(reads, start=1):
            if read is None:
                summary.files_already_ingested += 1
                continue
            if window.files and (
                len(window.files) >= window_files
                or window.rows + read.outcome.rows_read > window_rows
            ):
                _land_window(con, window, summary, progress)
                window = Window()
            window.add(read)
            if number % 50 == 0 or number == len(files):
                progress(f"ingest: {number}/{len(files)} files looked at")
        _land_window(con, window, summary, progress)
    progress(summary.describe())
    return summary


def _land_window(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    summary: LoadSummary,
    progress: Callable[[str], None],
) -> None:
    for files in window.rounds():
        _land_round(con, files, summary.load_id)
    for read in window.files:
        summary.files.append(read.outcome)
        if read.outcome.rejected:
            progress(f"rejected {read.extract.path}: {read.outcome.reason}")


def _land_round(con: duckdb.DuckDBPyConnection, files: list[PendingFile], load_id: str) -> None:
    con.begin()
    try:
        # Pupils before marks: a mark's pupil may be on roll by a pupils file before it.
        for kind in ("schools", "pupils", "marks"):
            members = [p for p in files if p.extract.kind.name == kind and p.text is not None]
            if members:
                _land_kind(con, members, load_id)
        for read in files:
            if read.text is None:
                read.quarantined = [Quarantined(p.line, p.reason, p.raw) for p in read.problems]
            read.outcome.rows_quarantined = len(read.quarantined)
        record_files(con, [(read.outcome, read.quarantined) for read in files], load_id)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _land_kind(con: duckdb.DuckDBPyConnection, members: list[PendingFile], load_id: str) -> None:
    """Check and append the rows of a round's files of one kind (each has rows)."""
    kind = members[0].extract.kind
    invalid = stage_files(
        con,
        [m.text for m in members if m.text is not None],
        lambda number, record: _for_stream(kind, record, members[number].extract_time),
        kind.arrow_schema(),
    )
    for number, line, reason, raw in invalid:
        members[number].quarantined.append(Quarantined(line, reason, raw))
    for member in members:
        # Quarantined in line order, unreadable and invalid rows together, as read.
        member.quarantined = sorted(
            [Quarantined(p.line, p.reason, p.raw) for p in member.problems] + member.quarantined,
            key=lambda q: q.line,
        )
    stream = STREAMS[kind.name]
    if stream is MARK_STREAM:
        for number, orphan in _marks_for_pupils_never_on_roll(con):
            members[number].quarantined.append(orphan)
    valid = dict(con.execute("select file_no, count(*) from incoming group by file_no").fetchall())
    news = [0] * len(members)
    if valid:
        news = append_news(con, stream, "incoming", load_id, [m.outcome.path for m in members])
    for number, member in enumerate(members):
        member.outcome.rows_new = news[number]
        member.outcome.rows_duplicate = valid.get(number, 0) - news[number]


def _for_stream(kind: FileKind, record: dict, extract_time: datetime) -> dict:
    """Rename the clean record's fields to the event table's columns."""
    if kind.name == "schools":
        record["school_name"] = record.pop("name")
        # A schools row carries no timestamp of its own: it is as of its extract.
        record["transaction_time"] = record["extracted_at"] = extract_time
    if kind.name == "pupils":
        record["valid_from"] = record.pop("effective_date")
        record["transaction_time"] = record["extracted_at"]
    if kind.name == "marks":
        record.pop("last_modified")
    return record


def _marks_for_pupils_never_on_roll(
    con: duckdb.DuckDBPyConnection,
) -> list[tuple[int, Quarantined]]:
    """Take out of `incoming` the marks of pupils never on roll: (file_no, quarantined row)."""
    orphans = con.execute(
        """
        select file_no, line, urn, upn, session_date, session, code from incoming as i
        where not exists (
            select 1 from events.pupil_events as p where p.urn = i.urn and p.upn = i.upn
        )
        order by file_no, line
        """
    ).fetchall()
    if orphans:
        con.execute(
            """
            delete from incoming as i where not exists (
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
                {
                    "urn": urn,
                    "upn": upn,
                    "session_date": str(day),
                    "session": session,
                    "code": code or "",
                },
            ),
        )
        for number, line, urn, upn, day, session, code in orphans
    ]
