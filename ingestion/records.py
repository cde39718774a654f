"""What an ingest records of every file: its outcome (`ops.ingest_audit`) and the rows it
quarantined (`ops.quarantine`), each with its line and a reason for the school's data manager.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from ingestion.contract import EVENT_TIME


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
class Quarantined:
    line: int
    reason: str
    # A JSON object of the row's contract columns; '{}' when its fields did not line up.
    raw_record: str


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
        ("ingested_at", EVENT_TIME),
        ("load_id", pa.string()),
    ]
)
_QUARANTINE_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("line", pa.int32()),
        ("reason", pa.string()),
        ("raw_record", pa.string()),
        ("ingested_at", EVENT_TIME),
        ("load_id", pa.string()),
    ]
)


def record_files(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[tuple[FileOutcome, Sequence[Quarantined]]],
    load_id: str,
) -> None:
    """The audit rows and quarantined rows of a round's files, in file order (one insert
    each: a statement per row costs milliseconds, and a round has thousands of files)."""
    now = datetime.now(UTC)
    audit = [
        {
            **{k: getattr(o, k) for k in ("sha256", "rows_read", "rows_new", "rejected")},
            **{k: getattr(o, k) for k in ("rows_duplicate", "rows_quarantined", "reason")},
            "path": o.path,
            "ingested_at": now,
            "load_id": load_id,
        }
        for o, _ in files
    ]
    quarantine = [
        {
            "path": outcome.path,
            "line": q.line,
            "reason": q.reason,
            "raw_record": q.raw_record,
            "ingested_at": now,
            "load_id": load_id,
        }
        for outcome, quarantined in files
        for q in quarantined
    ]
    for table, rows, schema in (
        ("ops.ingest_audit", audit, _AUDIT_SCHEMA),
        ("ops.quarantine", quarantine, _QUARANTINE_SCHEMA),
    ):
        if rows:
            con.register("record_arrow", pa.Table.from_pylist(rows, schema=schema))
            con.execute(f"insert into {table} by name select * from record_arrow")
            con.unregister("record_arrow")
