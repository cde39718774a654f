"""Read extract files into rows, each with its line number.

A file that cannot be read as a whole raises FileRejected; a line that cannot be read on its
own is returned as a RowProblem, so that the rest of the file still counts.
"""

import csv
import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from ingestion.contract import NAME_COLUMNS, FileKind
from ingestion.jsonl_sql import ArrowColumns, read_plain_jsonl
from ingestion.landing import ExtractFile


class FileRejected(Exception):
    """The whole file is unreadable; nothing of it is ingested."""


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str
    raw: dict[str, str]


def read_bytes(path: Path) -> tuple[bytes, str]:
    """The file's bytes and their sha256 (of the file as delivered, before decompression)."""
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def decode(path: Path, data: bytes) -> str:
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise FileRejected(f"the gzip file is truncated or damaged ({error})") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileRejected(
            f"the file is not UTF-8 text (first bad byte on line {line}); export it again as UTF-8"
        ) from error
    if not text.strip():
        raise FileRejected("the file is empty")
    return text


def read_rows(extract: ExtractFile, text: str) -> Iterator[Row | RowProblem]:
    if ".jsonl" in extract.path.name.lower():
        return _jsonl_rows(extract.kind, text)
    return _csv_rows(extract.kind, text)


def _csv_rows(kind: FileKind, text: str) -> Iterator[Row | RowProblem]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip().lower() for column in next(reader)]
    _check_header(kind, header)
    width = len(header)
    for fields in reader:
        line = reader.line_num
        if not fields:
            continue
        raw = _without_names(dict(zip(header, fields, strict=False)))
        if len(fields) != width:
            yield RowProblem(
                line, f"the row has {len(fields)} fields but the header has {width}", raw
            )
            continue
        yield Row(line, raw)


def _jsonl_rows(kind: FileKind, text: str) -> Iterator[Row | RowProblem]:
    header_checked = False
    for line, source in enumerate(text.splitlines(), start=1):
        if not source.strip():
            continue
        try:
            record = json.loads(source)
        except json.JSONDecodeError as error:
            yield RowProblem(line, f"the line is not valid JSON ({error.msg})", {})
            continue
        if not isinstance(record, dict):
            yield RowProblem(line, "the line is not a JSON object", {})
            continue
        values = {str(k).strip().lower(): _as_text(v) for k, v in record.items()}
        if not header_checked:
            # JSON Lines has no header: the first object's fields stand for it.
            _check_header(kind, list(values))
            header_checked = True
        yield Row(line, _without_names(values))


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_header(kind: FileKind, header: list[str]) -> None:
    missing = [c for c in kind.required_columns if c not in header]
    if missing:
        raise FileRejected(
            f"the {kind.name} file has no column {', '.join(missing)} "
            f"(it has: {', '.join(c for c in header if c not in NAME_COLUMNS)})"
        )


def _without_names(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k not in NAME_COLUMNS}


@dataclass
class RowBatch:
    """A file's readable rows as columns of text, for checking all at once (`rules/sql_rules`).

    `columns` has every known column of the kind, '' where a row has no value (as `clean_row`
    reads it); `present[i]` names the known columns row i actually had (its quarantine record
    keeps only those); `problems` are the lines that could not be read as rows."""

    kind: FileKind
    lines: list[int] = field(default_factory=list)
    columns: Mapping[str, list[str]] = field(default_factory=dict)
    present: list[frozenset[str]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.lines) + len(self.problems)

    def values(self, index: int) -> dict[str, str]:
        """Row `index` as `read_rows` gives it, less unknown columns (never stored anyway)."""
        return {
            c: self.columns[c][index] for c in self.kind.known_columns if c in self.present[index]
        }


def read_batch(extract: ExtractFile, text: str, batch: RowBatch) -> None:
    """Fill `batch` with the file's rows: the same rows, lines and problems as `read_rows`.

    Raises FileRejected as `read_rows` does; `batch` then holds what was read before it."""
    if ".jsonl" in extract.path.name.lower():
        _jsonl_batch(extract.kind, text, batch)
    else:
        _csv_batch(extract.kind, text, batch)


def _csv_batch(kind: FileKind, text: str, batch: RowBatch) -> None:
    if _plain_csv_batch(kind, text, batch):
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip().lower() for column in next(reader)]
    _check_header(kind, header)
    width = len(header)
    # dict(zip(header, fields)) keeps a repeated column's last value: so does this.
    where = {column: index for index, column in enumerate(header)}
    rows: list[list[str]] = []
    lines = batch.lines
    for fields in reader:
        if not fields:
            continue
        if len(fields) != width:
            raw = _without_names(dict(zip(header, fields, strict=False)))
            batch.problems.append(
                RowProblem(
                    reader.line_num,
                    f"the row has {len(fields)} fields but the header has {width}",
                    raw,
                )
            )
            continue
        lines.append(reader.line_num)
        rows.append(fields)
    present = frozenset(c for c in kind.known_columns if c in where)
    by_position = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    columns: dict[str, list[str]] = {}
    for column in kind.known_columns:
        index = where.get(column)
        columns[column] = list(by_position[index]) if index is not None else [""] * len(lines)
    batch.columns = columns
    batch.present = [present] * len(lines)


def _plain_csv_batch(kind: FileKind, text: str, batch: RowBatch) -> bool:
    """Read the file with Arrow's CSV parser when that gives exactly what `csv.reader` gives;
    False (and `batch` untouched) when the file is not in that plain form.

    The plain form: no quote character and no NUL anywhere, lines ending in "\n" or "\r\n",
    no blank line, a header naming each column once, and every line holding the header's
    number of fields. Then each line is one row on its own physical line (line number = its
    position), its fields are the text between commas, and no line is a problem."""
    if '"' in text or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return False
    plain = text.replace("\r\n", "\n") if "\r" in text else text
    first, _, body = plain.partition("\n")
    if not first or not body.strip("\n") or body.startswith("\n") or "\n\n" in body:
        return False
    header = [column.strip().lower() for column in first.split(",")]
    _check_header(kind, header)
    if len(set(header)) != len(header):
        return False
    known = [column for column in kind.known_columns if column in header]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=header),
            parse_options=pa_csv.ParseOptions(
                quote_char=False, double_quote=False, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                include_columns=known,
            ),
        )
    except pa.ArrowInvalid:
        # A line with another number of fields: the Python reader reports it as a problem.
        return False
    rows = table.num_rows
    empty = pa.array([""] * rows, pa.string())
    columns = {c: table.column(c) if c in header else empty for c in kind.known_columns}
    batch.lines = list(range(2, rows + 2))
    batch.columns = ArrowColumns(pa.table(columns))
    batch.present = [frozenset(known)] * rows
    return True


def _jsonl_batch(kind: FileKind, text: str, batch: RowBatch) -> None:
    read = read_plain_jsonl(kind, text)
    if read is not None:
        _check_header(kind, read.first_keys)
        batch.lines, batch.columns, batch.present = read.lines, read.columns, read.present
        return
    # Not in the form DuckDB reads as Python does (jsonl_sql says which): line by line here,
    # with Python's reasons for the lines that cannot be read.
    known = kind.known_columns
    columns: dict[str, list[str]] = {column: [] for column in known}
    batch.columns = columns
    present_sets: dict[frozenset[str], frozenset[str]] = {}
    for item in _jsonl_rows(kind, text):
        if isinstance(item, RowProblem):
            batch.problems.append(item)
            continue
        batch.lines.append(item.line)
        values = item.values
        for column in known:
            columns[column].append(values.get(column) or "")
        keys = frozenset(c for c in known if c in values)
        batch.present.append(present_sets.setdefault(keys, keys))
