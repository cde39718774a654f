"""Ingest a landing folder of register extracts into the warehouse's event store.

Each file is one transaction: its events, its quarantined rows and its audit row land
together or not at all. A file already ingested (same path, same bytes) is skipped.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
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
from ingestion.validate_sql import prepare, stage_valid_rows

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


def ingest_landing(
    landing: Path,
    database: Path,
    load_id: str | None = None,
    progress: Callable[[str], None] = log.info,
) -> LoadSummary:
    """Ingest every new file under `landing` into the DuckDB warehouse at `database`."""
    landing = landing.resolve()
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    summary = LoadSummary(load_id or f"load-{uuid.uuid4().hex[:12]}")
    files = find_extract_files(landing)
    database.parent.mkdir(parents=True, exist_ok=True)
    with connect(database) as con:
        create_store(con)
        prepare(con)
        seen = set(con.execute("select path, sha256 from ops.ingest_audit").fetchall())
        for number, extract in enumerate(files, start=1):
            data, sha256 = read_bytes(extract.path)
            relative = str(extract.path.relative_to(landing))
            if (relative, sha256) in seen:
                summary.files_already_ingested += 1
                continue
            outcome = _ingest_file(con, extract, relative, data, sha256, summary.load_id)
            seen.add((relative, sha256))
            summary.files.append(outcome)
            if outcome.rejected:
                progress(f"rejected {extract.path}: {outcome.reason}")
            if number % 50 == 0 or number == len(files):
                progress(f"ingest: {number}/{len(files)} files looked at")
    progress(summary.describe())
    return summary


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    extract: ExtractFile,
    relative: str,
    data: bytes,
    sha256: str,
    load_id: str,
) -> FileOutcome:
    outcome = FileOutcome(relative, sha256)
    quarantined: list[_Quarantined] = []
    extract_time = extract_time_of(extract.path)
    batch = RowBatch(extract.kind)
    try:
        read_batch(extract, decode(extract.path, data), batch)
    except FileRejected as rejection:
        outcome.rejected, outcome.reason = True, str(rejection)
    outcome.rows_read = batch.rows_read

    con.begin()
    try:
        if not outcome.rejected and batch.lines:
            stream = STREAMS[extract.kind.name]
            invalid = stage_valid_rows(
                con,
                batch,
                lambda record: _for_stream(extract.kind, record, extract_time),
                ARROW_SCHEMAS[extract.kind.name],
            )
            # Quarantined in line order, unreadable and invalid rows together, as read.
            quarantined = sorted(
                [_Quarantined(p.line, p.reason, p.raw) for p in batch.problems]
                + [_Quarantined(line, reason, raw) for line, reason, raw in invalid],
                key=lambda q: q.line,
            )
            if stream is MARK_STREAM:
                quarantined.extend(_marks_for_pupils_never_on_roll(con))
            valid = con.execute("select count(*) from incoming").fetchone()[0]
            if valid:
                outcome.rows_new = append_news(con, stream, "incoming", load_id, relative)
            outcome.rows_duplicate = valid - outcome.rows_new
        elif not outcome.rejected:
            quarantined = [_Quarantined(p.line, p.reason, p.raw) for p in batch.problems]
        outcome.rows_quarantined = len(quarantined)
        _record(con, outcome, quarantined, load_id)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return outcome


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


def _marks_for_pupils_never_on_roll(con: duckdb.DuckDBPyConnection) -> list[_Quarantined]:
    orphans = con.execute(
        """
        select line, urn, upn, session_date, session, code from incoming as i
        where not exists (
            select 1 from events.pupil_events as p where p.urn = i.urn and p.upn = i.upn
        )
        order by line
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
        )
        for line, urn, upn, day, session, code in orphans
    ]


def _record(
    con: duckdb.DuckDBPyConnection,
    outcome: FileOutcome,
    quarantined: list[_Quarantined],
    load_id: str,
) -> None:
    now = datetime.now(UTC)
    con.execute(
        "insert into ops.ingest_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            outcome.path,
            outcome.sha256,
            outcome.rows_read,
            outcome.rows_new,
            outcome.rows_duplicate,
            outcome.rows_quarantined,
            outcome.rejected,
            outcome.reason,
            now,
            load_id,
        ],
    )
    if quarantined:
        con.executemany(
            "insert into ops.quarantine values (?, ?, ?, ?, ?, ?)",
            [
                [outcome.path, q.line, q.reason, json.dumps(q.raw, sort_keys=True), now, load_id]
                for q in quarantined
            ],
        )
