"""A round's rows as the relation `rules.checks.check_rows` reads, built from extract files
with Python's csv and json modules (independently of the project's readers), and what
check_rows makes of them."""

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.contract import FileKind
from ingestion.landing import extract_time_of, urn_of_path
from ingestion.rules.checks import DateLimits, check_rows


@dataclass
class SourceRow:
    """One row: its file's number, line, school and extract time, and the known columns it
    had, as text."""

    file_no: int
    line: int
    file_urn: str | None
    extract_time: datetime
    values: dict[str, str] = field(default_factory=dict)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def read_rows(kind: FileKind, path: Path, file_no: int) -> list[SourceRow]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    text = data.decode("utf-8-sig")
    known = set(kind.known_columns)
    urn, taken = urn_of_path(path), extract_time_of(path)
    rows = []
    if ".jsonl" in path.name:
        for line, source in enumerate(text.splitlines(), start=1):
            record = json.loads(source)
            values = {k: _as_text(v) for k, v in record.items() if k in known}
            rows.append(SourceRow(file_no, line, urn, taken, values))
        return rows
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for record in reader:
        values = {k: v for k, v in record.items() if k in known}
        rows.append(SourceRow(file_no, reader.line_num, urn, taken, values))
    return rows


def register_source(
    con: duckdb.DuckDBPyConnection, kind: FileKind, rows: list[SourceRow], name: str = "source"
) -> None:
    """Create the temp table `name` holding the rows, in the form check_rows reads."""
    columns = {
        "file_no": pa.array([r.file_no for r in rows], pa.int32()),
        "line": pa.array([r.line for r in rows], pa.int32()),
        "file_urn": pa.array([r.file_urn for r in rows], pa.string()),
        "extract_time": pa.array([r.extract_time for r in rows], pa.timestamp("us", tz="UTC")),
    }
    for column in kind.known_columns:
        columns[column] = pa.array([r.values.get(column, "") for r in rows], pa.string())
    columns["present"] = pa.array(
        [sorted(c for c in kind.known_columns if c in r.values) for r in rows],
        pa.list_(pa.string()),
    )
    con.register("source_arrow", pa.table(columns))
    con.execute(f"create or replace temp table {name} as select * from source_arrow")
    con.unregister("source_arrow")


def checked(
    kind: FileKind, rows: list[SourceRow], now: datetime, limits: DateLimits | None = None
) -> tuple[dict[tuple[int, int], dict], dict[tuple[int, int], tuple[str, dict]]]:
    """check_rows on the rows: the valid ones by (file_no, line), the quarantined ones'
    (reason, raw record) by (file_no, line)."""
    with duckdb.connect() as con:
        register_source(con, kind, rows)
        check_rows(con, kind, "source", now, limits)
        result = con.execute("select * from incoming")
        names = [d[0] for d in result.description]
        valid = {
            (r["file_no"], r["line"]): r
            for r in (dict(zip(names, t, strict=True)) for t in result.fetchall())
        }
        quarantined = {
            (number, line): (reason, json.loads(raw))
            for number, line, reason, raw in con.execute("select * from quarantined").fetchall()
        }
        types = dict(con.execute("describe incoming").fetchall()[i][:2] for i in range(len(names)))
    assert list(names) == [*kind.arrow_schema().names, "file_no"]
    assert types["line"] == "INTEGER" and types["file_no"] == "INTEGER"
    assert len(valid) + len(quarantined) == len(rows)
    return valid, quarantined
