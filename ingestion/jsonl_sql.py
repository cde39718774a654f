"""Read a JSON Lines extract with DuckDB, when that gives exactly what Python's reader gives.

`readers._jsonl_rows` parses every line with `json.loads` in Python, the main remaining cost
of ingesting a JSON Lines school (docs/performance.md). Here the whole file is parsed in
DuckDB and handed back as columns of text. DuckDB's JSON parser is not Python's, so this
reads a file only when every line is in the plain form the two agree on, and returns None
otherwise; the caller then reads the whole file in Python, which keeps its quarantine
reasons ("the line is not valid JSON (...)" carries Python's message) and its rendering of
odd values. The plain form:

- lines end in "\\n" (or "\\r\\n"): no other character Python's `splitlines` breaks lines at,
  so a record's line number is its physical line, blank lines counted;
- every non-blank line is one valid JSON object, and the text has no trailing comma before
  "}" or "]" (DuckDB accepts those; Python does not);
- every key is already in lower case without spaces ([a-z0-9_]+) and appears once in its
  object (Python normalises keys and keeps a repeated key's last value);
- every known column's value is a string, null, true/false or an integer: the values whose
  text DuckDB writes as Python's `str` does (floats, arrays and objects are rendered
  differently, so they go to Python).

Only the kind's known columns are taken out of each object: unknown keys, and the name
columns among them, are never read into Python at all.
"""

import functools
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from ingestion.duckdb_limits import memory_limit
from ingestion.feed import FileKind

# Every character but "\n" at which str.splitlines breaks a line ("\r" is checked apart).
_OTHER_LINE_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00")
_TRAILING_COMMA = re.compile(r",\s*[\]}]")
# A lone surrogate escape: Python reads it, DuckDB refuses it; leave such files to Python.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_PLAIN_KEY = "[a-z0-9_]+"
_PLAIN_TYPES = "('VARCHAR', 'NULL', 'BOOLEAN', 'UBIGINT', 'BIGINT')"


class ArrowColumns(Mapping[str, list[str]]):
    """Text columns held as Arrow, each made a Python list only when asked for (the ingest
    hands the Arrow table itself to its SQL check)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self._lists: dict[str, list[str]] = {}

    def __getitem__(self, column: str) -> list[str]:
        if column not in self._lists:
            self._lists[column] = self.table.column(column).to_pylist()
        return self._lists[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.column_names)

    def __len__(self) -> int:
        return self.table.num_columns


@dataclass(frozen=True)
class JsonlColumns:
    """A JSON Lines file's objects as columns: as `readers._jsonl_rows` would give them."""

    lines: list[int]
    columns: ArrowColumns
    present: list[frozenset[str]]
    first_keys: list[str]


def read_plain_jsonl(kind: FileKind, text: str) -> JsonlColumns | None:
    """The file's objects read by DuckDB, or None when the file is not in the plain form."""
    if not _plain_text(text):
        return None
    known = kind.known_columns
    try:
        with _database().cursor() as con:
            table = con.sql(_query(known), params=[text]).to_arrow_table()
    except duckdb.Error:
        # Something DuckDB could not parse (Python may still read or reject it line by line).
        return None
    if table.num_rows == 0 or not all(table.column("plain").to_pylist()):
        return None
    masks = table.column("mask").to_pylist()
    sets: dict[int, frozenset[str]] = {}
    for mask in set(masks):
        sets[mask] = frozenset(c for i, c in enumerate(known) if mask >> i & 1)
    text_columns = pa.table(
        {c: table.column(f"c{i}").cast(pa.string()) for i, c in enumerate(known)}
    )
    return JsonlColumns(
        lines=table.column("line").to_pylist(),
        columns=ArrowColumns(text_columns),
        present=[sets[mask] for mask in masks],
        first_keys=list(table.column("keys")[0].as_py()),
    )


def _plain_text(text: str) -> bool:
    if any(character in text for character in _OTHER_LINE_BREAKS):
        return False
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return False
    return not (_TRAILING_COMMA.search(text) or _SURROGATE_ESCAPE.search(text))


_per_thread = threading.local()


def _database() -> duckdb.DuckDBPyConnection:
    # One small in-memory database per thread (the ingest reads files on two threads, a file
    # at a time on each); each read has its own cursor.
    if not hasattr(_per_thread, "database"):
        _per_thread.database = duckdb.connect(config={"threads": 1, "memory_limit": memory_limit()})
    return _per_thread.database


@functools.cache
def _query(known: tuple[str, ...]) -> str:
    # One path list, so that each line is parsed once per function, not once per column.
    paths = "[" + ", ".join(f"'$.{column}'" for column in known) + "]"
    # A present key with a JSON null reads as '' (Python's `_as_text(None)`); a missing key too,
    # but only present keys count in `mask` (the row's quarantine record keeps only those).
    values = ",\n".join(f"coalesce(text[{i + 1}], '') as c{i}" for i in range(len(known)))
    mask = " + ".join(
        f"(case when types[{i + 1}] is null then 0 else {1 << i} end)" for i in range(len(known))
    )
    return f"""
        with split as (
            select unnest(parts) as source, generate_subscripts(parts, 1) as line
            from (select string_split(?, chr(10)) as parts)
        ),
        objects as (
            select
                line,
                json_type(source) as type,
                json_keys(source) as keys,
                json_type(source, {paths}) as types,
                json_extract_string(source, {paths}) as text
            from split
            where trim(source, ' ' || chr(9) || chr(13)) <> ''
        )
        select
            line,
            keys,
            type = 'OBJECT'
                and len(keys) = len(list_distinct(keys))
                and coalesce(
                    list_bool_and([regexp_full_match(k, '{_PLAIN_KEY}') for k in keys]), true
                )
                and list_bool_and([t is null or t in {_PLAIN_TYPES} for t in types]) as plain,
            {mask} as mask,
            {values}
        from objects
        order by line
    """
