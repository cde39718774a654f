"""Ingest a landing folder of register extracts into the warehouse's event store.

Files land in rounds of many files (`ingest_landing`), each round one transaction: its files'
events, quarantined rows and audit rows land together or not at all, so after a failure each
file is either wholly ingested or not at all (and is read again by the next run). A file
already ingested (same path, same bytes) is skipped.
"""

import json
import logging
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.duckdb_limits import connect
from ingestion.feed import FileKind
from ingestion.readers import (
    ExtractFile,
    FileRejected,
    RowBatch,
    RowProblem,
    decode,
    find_extract_files,
    read_batch,
    read_bytes,
)
from ingestion.store import (
    MARK_STREAM,
    PUPIL_STREAM,
    SCHOOL_STREAM,
    EventStream,
    append_news,
    create_store,
)
from ingestion.validate_sql import FileText, prepare, stage_files, text_table

log = logging.getLogger(__name__)

# Extract folders named like FEED_SPEC's example: 2025-09-15T16-05-00Z
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})(Z|[+-]\d{4})?")

STREAMS: dict[str, EventStream] = {
    "schools": SCHOOL_STREAM,
    "pupils": PUPIL_STREAM,
    "marks": MARK_STREAM,
}

_TS = pa.timestamp("us", tz="UTC")
ARROW_SCHEMAS: dict[str, pa.Schema] = {
    "schools": pa.schema(
        [
            ("urn", pa.string()),
            ("la_code", pa.string()),
            ("school_name", pa.string()),
            ("phase", pa.string()),
            ("transaction_time", _TS),
            ("extracted_at", _TS),
            ("line", pa.int32()),
        ]
    ),
    "pupils": pa.schema(
        [
            ("urn", pa.string()),
            ("upn", pa.string()),
            ("valid_from", pa.date32()),
            ("date_of_birth", pa.date32()),
            ("sex", pa.string()),
            ("ncy", pa.string()),
            ("admission_date", pa.date32()),
            ("leaving_date", pa.date32()),
            ("sen_provision", pa.string()),
            ("sen_primary_need", pa.string()),
            ("fsm_eligible", pa.bool_()),
            ("looked_after", pa.bool_()),
            ("child_in_need", pa.bool_()),
            ("child_protection_plan", pa.bool_()),
            ("transaction_time", _TS),
            ("extracted_at", _TS),
            ("line", pa.int32()),
        ]
    ),
    "marks": pa.schema(
        [
            ("urn", pa.string()),
            ("upn", pa.string()),
            ("session_date", pa.date32()),
            ("session", pa.string()),
            ("code", pa.string()),
            ("minutes_late", pa.int32()),
            ("transaction_time", _TS),
            ("extracted_at", _TS),
            ("line", pa.int32()),
        ]
    ),
}


@dataclass
class FileOutcome:
    path: str
    sha256: str
    rows_read: int = 0
    rows_new: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    rejected: bool = False
    reason: str | None = None


@dataclass
class LoadSummary:
    load_id: str
    files: list[FileOutcome] = field(default_factory=list)
    files_already_ingested: int = 0

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    def describe(self) -> str:
        rejected = sum(f.rejected for f in self.files)
        return (
            f"load {self.load_id}: {len(self.files)} new files "
            f"({self.files_already_ingested} already ingested, {rejected} rejected); "
            f"rows read {self.total('rows_read')}, new events {self.total('rows_new')}, "
            f"duplicates {self.total('rows_duplicate')}, "
            f"quarantined {self.total('rows_quarantined')}"
        )


@dataclass
class _Quarantined:
    line: int
    reason: str
    raw: dict[str, str]


# A window of files is read, then landed in rounds. Its rows wait in memory (as Arrow text),
# and each round's are checked and placed in one pass: one scan of a stored stream for all.
WINDOW_ROWS = 2_000_000
WINDOW_FILES = 2_000
# Files parsed ahead of the one being placed in its window (_read_ahead): enough to keep the
# other core busy, few enough that at most this many files' rows wait beyond the window.
READ_AHEAD_FILES = 8
READ_AHEAD_THREADS = 2


@dataclass
class _Pending:
    """A file read and waiting for its round to land."""

    extract: ExtractFile
    outcome: FileOutcome
    extract_time: datetime
    text: FileText | None
    problems: list[RowProblem]
    # The urns its rows name (spaces stripped, as clean_row reads them): every stream key
    # starts with the urn, so files naming no urn in common cannot meet in a stream.
    urns: frozenset[str]
    round: int = 0
    quarantined: list[_Quarantined] = field(default_factory=list)


@dataclass
class _Window:
    """Files read in order, each placed in the earliest round that lands it after every
    earlier file it could interact with, so landing the rounds in turn gives what landing the
    files in turn gives. Files interact when they name a school in common and are of one kind
    (their stream keys could meet), or are a marks file and a later pupils file (the marks'
    on-roll check must not see the pupils): then the later file lands in a later round. A
    marks file after a pupils file may share its round (a round lands pupils before marks)."""

    files: list[_Pending] = field(default_factory=list)
    rows: int = 0
    # kind -> urn -> the latest round of a file of that kind naming the urn
    latest: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, pending: _Pending) -> None:
        kind = pending.extract.kind.name
        own = self.latest.setdefault(kind, {})
        marks, pupils = self.latest.get("marks", {}), self.latest.get("pupils", {})
        after = [own[u] + 1 for u in pending.urns if u in own]
        if kind == "pupils":
            after += [marks[u] + 1 for u in pending.urns if u in marks]
        if kind == "marks":
            after += [pupils[u] for u in pending.urns if u in pupils]
        pending.round = max(after, default=0)
        for urn in pending.urns:
            own[urn] = pending.round
        self.files.append(pending)
        self.rows += pending.outcome.rows_read

    def rounds(self) -> list[list[_Pending]]:
        count = max((p.round for p in self.files), default=-1) + 1
        return [[p for p in self.files if p.round == number] for number in range(count)]


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
    rounds (`_Window`): a round's files are checked together, placed in each event stream
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
        window = _Window()
        reads = _read_ahead(files, lambda extract: _read_new_file(landing, extract, seen))
        for number, read in enumerate(reads, start=1):
            if read is None:
                summary.files_already_ingested += 1
                continue
            if window.files and (
                len(window.files) >= window_files
                or window.rows + read.outcome.rows_read > window_rows
            ):
                _land_window(con, window, summary, progress)
                window = _Window()
            window.add(read)
            if number % 50 == 0 or number == len(files):
                progress(f"ingest: {number}/{len(files)} files looked at")
        _land_window(con, window, summary, progress)
    progress(summary.describe())
    return summary


def _read_ahead(
    files: list[ExtractFile], read: Callable[[ExtractFile], _Pending | None]
) -> Iterator[_Pending | None]:
    """`read` of each file, in order, with the next few files read meanwhile on other threads.

    Parsing a file is mostly DuckDB's and Arrow's work, which runs without Python's lock, so
    the second core reads the next files while this one lands a round. A file's error
    surfaces when its turn comes, after every file before it, as when reading one at a time.
    """
    with ThreadPoolExecutor(max_workers=READ_AHEAD_THREADS) as pool:
        pending: deque[Future[_Pending | None]] = deque()
        for extract in files:
            pending.append(pool.submit(read, extract))
            if len(pending) > READ_AHEAD_FILES:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _read_new_file(
    landing: Path, extract: ExtractFile, seen: frozenset[tuple[str, str]]
) -> _Pending | None:
    """The file read, or None when this path with these bytes was ingested before."""
    data, sha256 = read_bytes(extract.path)
    relative = str(extract.path.relative_to(landing))
    if (relative, sha256) in seen:
        return None
    return _read_file(extract, relative, data, sha256)


def _read_file(extract: ExtractFile, relative: str, data: bytes, sha256: str) -> _Pending:
    outcome = FileOutcome(relative, sha256)
    batch = RowBatch(extract.kind)
    try:
        read_batch(extract, decode(extract.path, data), batch)
    except FileRejected as rejection:
        outcome.rejected, outcome.reason = True, str(rejection)
    outcome.rows_read = batch.rows_read
    extract_time = extract_time_of(extract.path)
    if outcome.rejected:
        return _Pending(extract, outcome, extract_time, None, [], frozenset())
    text = FileText(extract.kind, text_table(batch), batch.present) if batch.lines else None
    urns = frozenset(urn.strip() for urn in batch.columns.get("urn", ()))
    return _Pending(extract, outcome, extract_time, text, batch.problems, urns)


def _land_window(
    con: duckdb.DuckDBPyConnection,
    window: _Window,
    summary: LoadSummary,
    progress: Callable[[str], None],
) -> None:
    for files in window.rounds():
        _land_round(con, files, summary.load_id)
    for read in window.files:
        summary.files.append(read.outcome)
        if read.outcome.rejected:
            progress(f"rejected {read.extract.path}: {read.outcome.reason}")


def _land_round(con: duckdb.DuckDBPyConnection, files: list[_Pending], load_id: str) -> None:
    con.begin()
    try:
        # Pupils before marks: a mark's pupil may be on roll by a pupils file before it.
        for kind in ("schools", "pupils", "marks"):
            members = [p for p in files if p.extract.kind.name == kind and p.text is not None]
            if members:
                _land_kind(con, members, load_id)
        for read in files:
            if read.text is None:
                read.quarantined = [_Quarantined(p.line, p.reason, p.raw) for p in read.problems]
            read.outcome.rows_quarantined = len(read.quarantined)
        _record(con, files, load_id)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _land_kind(con: duckdb.DuckDBPyConnection, members: list[_Pending], load_id: str) -> None:
    """Check and append the rows of a round's files of one kind (each has rows)."""
    kind = members[0].extract.kind
    invalid = stage_files(
        con,
        [m.text for m in members if m.text is not None],
        lambda number, record: _for_stream(kind, record, members[number].extract_time),
        ARROW_SCHEMAS[kind.name],
    )
    for number, line, reason, raw in invalid:
        members[number].quarantined.append(_Quarantined(line, reason, raw))
    for member in members:
        # Quarantined in line order, unreadable and invalid rows together, as read.
        member.quarantined = sorted(
            [_Quarantined(p.line, p.reason, p.raw) for p in member.problems] + member.quarantined,
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


def extract_time_of(path: Path) -> datetime:
    """When the extract holding `path` was taken: its folder's timestamp name, else the file's
    modification time (schools rows carry no timestamp of their own)."""
    for part in reversed(path.parent.parts):
        match = _STAMP.fullmatch(part)
        if match:
            day, hh, mm, ss, offset = match.groups()
            offset = "+00:00" if offset in (None, "Z") else f"{offset[:3]}:{offset[3:]}"
            return datetime.fromisoformat(f"{day}T{hh}:{mm}:{ss}{offset}")
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _known(kind: FileKind, values: dict[str, str]) -> dict[str, str]:
    # Unknown columns are never stored: they might identify a person.
    return {k: values[k] for k in kind.known_columns if k in values}


def _marks_for_pupils_never_on_roll(
    con: duckdb.DuckDBPyConnection,
) -> list[tuple[int, _Quarantined]]:
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
            _Quarantined(
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


_AUDIT_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("rows_read", pa.int32()),
        ("rows_new", pa.int32()),
        ("rows_duplicate", pa.int32()),
        ("rows_quarantined", pa.int32()),
        ("rejected", pa.bool_()),
        ("reason", pa.string()),
        ("ingested_at", _TS),
        ("load_id", pa.string()),
    ]
)
_QUARANTINE_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("line", pa.int32()),
        ("reason", pa.string()),
        ("raw_record", pa.string()),
        ("ingested_at", _TS),
        ("load_id", pa.string()),
    ]
)


def _record(con: duckdb.DuckDBPyConnection, files: list[_Pending], load_id: str) -> None:
    """The round's audit rows and quarantined rows, in file order (one insert each: a
    statement per row costs milliseconds, and a round has thousands of files)."""
    now = datetime.now(UTC)
    audit = [
        {
            **{k: getattr(o, k) for k in ("sha256", "rows_read", "rows_new", "rejected")},
            **{k: getattr(o, k) for k in ("rows_duplicate", "rows_quarantined", "reason")},
            "path": o.path,
            "ingested_at": now,
            "load_id": load_id,
        }
        for o in (read.outcome for read in files)
    ]
    quarantine = [
        {
            "path": read.outcome.path,
            "line": q.line,
            "reason": q.reason,
            "raw_record": json.dumps(q.raw, sort_keys=True),
            "ingested_at": now,
            "load_id": load_id,
        }
        for read in files
        for q in read.quarantined
    ]
    for table, rows, schema in (
        ("ops.ingest_audit", audit, _AUDIT_SCHEMA),
        ("ops.quarantine", quarantine, _QUARANTINE_SCHEMA),
    ):
        if rows:
            con.register("record_arrow", pa.Table.from_pylist(rows, schema=schema))
            con.execute(f"insert into {table} by name select * from record_arrow")
            con.unregister("record_arrow")
