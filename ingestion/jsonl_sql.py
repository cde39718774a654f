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
columns among them, are never read into Python at all. Arrow splits the text into lines;
DuckDB takes each line's keys, the types of its known values and their text (three JSON
functions in one small query); the checks then run on what a file has few of, its distinct
key lists and value types, rather than per line in SQL that DuckDB would plan for every file.
"""

import functools
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import FileKind
from warehouse.connect import memory_limit

# Every character but "\n" at which str.splitlines breaks a line ("\r" is checked apart).
_OTHER_LINE_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00")
_TRAILING_COMMA = re.compile(r",\s*[\]}]")
# A lone surrogate escape: Python reads it, DuckDB refuses it; leave such files to Python.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_PLAIN_KEY = re.compile("[a-z0-9_]+")
_PLAIN_TYPES = pa.array(["VARCHAR", "NULL", "BOOLEAN", "UBIGINT", "BIGINT"])


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
    objects = _object_lines(text)
    if objects is None:
        return None
    known = kind.known_columns
    try:
        with _database().cursor() as con:
            con.register("object_lines", objects)
            parsed = con.sql(_query(known)).to_arrow_table()
    except duckdb.Error:
        # Something DuckDB could not parse (Python may still read or reject it line by line).
        return None
    keys, types, values = (parsed.column(c).combine_chunks() for c in ("keys", "types", "text"))
    shapes = _key_shapes(keys)
    if shapes is None or not _plain_types(types):
        return None
    shape_of_object, key_lists = shapes
    present_sets = [frozenset(known).intersection(key_list) for key_list in key_lists]
    # A present key with a JSON null reads as '' (Python's `_as_text(None)`); a missing key
    # too, but only present keys are in `present` (the row's quarantine record keeps those).
    columns = {
        column: pc.fill_null(pc.list_element(values, i), "").cast(pa.string())
        for i, column in enumerate(known)
    }
    return JsonlColumns(
        lines=parsed.column("line").to_pylist(),
        columns=ArrowColumns(pa.table(columns)),
        present=[present_sets[shape] for shape in shape_of_object],
        first_keys=key_lists[shape_of_object[0]],
    )


def _object_lines(text: str) -> pa.Table | None:
    """The non-blank lines with their line numbers, or None when one does not open an
    object (Python then says what is wrong with it)."""
    parts = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    if len(parts) and parts[-1].as_py() == "":
        parts = parts.slice(0, len(parts) - 1)
    lines = pa.table({"line": pa.array(range(1, len(parts) + 1), pa.int32()), "source": parts})
    if _all(pc.starts_with(parts, "{")):
        return lines if len(parts) else None
    # Rarely: blank lines, or spaces before an object.
    stripped = pc.utf8_trim(parts, " \t\r")
    blank = pc.equal(stripped, "")
    if not _all(pc.or_(blank, pc.starts_with(stripped, "{"))):
        return None
    objects = lines.filter(pc.invert(blank))
    return objects if objects.num_rows else None


def _all(values: pa.Array | pa.ChunkedArray) -> bool:
    return pc.all(values).as_py() is not False


def _key_shapes(keys: pa.Array) -> tuple[list[int], list[list[str]]] | None:
    """The file's distinct key lists (a file has a handful) and each object's, as an index
    into them; None when a key is not plain or appears twice in one object."""
    if not all(_PLAIN_KEY.fullmatch(key) for key in pc.unique(keys.flatten()).to_pylist()):
        return None
    # Joined by a character no plain key holds, so each joined list splits back exactly.
    joined = pc.binary_join(keys, "\0")
    distinct = pc.unique(joined)
    key_lists = [shape.split("\0") if shape else [] for shape in distinct.to_pylist()]
    if any(len(set(key_list)) != len(key_list) for key_list in key_lists):
        return None
    return pc.index_in(joined, value_set=distinct).to_pylist(), key_lists


def _plain_types(types: pa.Array) -> bool:
    return _all(pc.is_in(types.flatten().drop_null(), value_set=_PLAIN_TYPES))


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
    # One path list, so that each line is parsed once per function, not once per column; the
    # checks and the columns are then taken out of the lists with Arrow, which costs less
    # than planning them in SQL for every file. No `order by`: DuckDB keeps the Arrow
    # table's order (preserve_insertion_order), so lines stay rising, as stage_files'
    # bisection by line needs.
    paths = "[" + ", ".join(f"'$.{column}'" for column in known) + "]"
    return f"""
        select
            line,
            json_keys(source) as keys,
            json_type(source, {paths}) as types,
            json_extract_string(source, {paths}) as text
        from object_lines
    """
