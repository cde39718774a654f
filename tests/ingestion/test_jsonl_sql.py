"""JSON Lines read by DuckDB give exactly the rows, lines and values Python's reader gives.

The reference is `readers.read_rows` (json.loads line by line), which the ingest tests check
against the generator's ground truth. Files in the plain form must be read by DuckDB (else
the speed-up silently stops); files out of it must go to Python and still read the same.
"""

import json
from pathlib import Path

import pytest

from ingestion.contract import kind_of
from ingestion.jsonl_sql import read_plain_jsonl
from ingestion.landing import ExtractFile
from ingestion.readers import (
    FileRejected,
    Row,
    RowBatch,
    RowProblem,
    decode,
    read_batch,
    read_rows,
)
from synthetic import SyntheticLA
from tests.support.extracts import deliver


@pytest.fixture(scope="module")
def jsonl_files(tiny_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    landing = tmp_path_factory.mktemp("jsonl") / "landing"
    deliver(tiny_la, landing, range(3))
    files = sorted(p for p in landing.rglob("*") if ".jsonl" in p.name)
    assert {kind_of(p.name).name for p in files} == {"schools", "pupils", "marks"}
    assert any(p.name.endswith(".gz") for p in files)
    return files


def _extract(path: Path) -> ExtractFile:
    kind = kind_of(path.name)
    assert kind is not None
    return ExtractFile(path, kind)


def _both_ways(extract: ExtractFile, text: str) -> None:
    """read_batch (DuckDB or fallback) against read_rows, row for row."""
    expected = list(read_rows(extract, text))
    batch = RowBatch(extract.kind)
    read_batch(extract, text, batch)
    rows = [r for r in expected if isinstance(r, Row)]
    problems = [r for r in expected if isinstance(r, RowProblem)]
    assert batch.problems == problems
    assert batch.lines == [r.line for r in rows]
    known = extract.kind.known_columns
    for index, row in enumerate(rows):
        assert batch.values(index) == {c: v for c, v in row.values.items() if c in known}
        for column in known:
            assert batch.columns[column][index] == (row.values.get(column) or "")


def test_generated_files_are_read_by_duckdb_as_python_reads_them(
    jsonl_files: list[Path],
) -> None:
    for path in jsonl_files:
        extract = _extract(path)
        text = decode(path, path.read_bytes())
        assert read_plain_jsonl(extract.kind, text) is not None, path
        _both_ways(extract, text)


def _variant(path: Path, change) -> str:  # noqa: ANN001 - a small local callback
    lines = decode(path, path.read_bytes()).splitlines()
    return "\n".join(change(lines)) + "\n"


def _with_values(lines: list[str], **values: object) -> list[str]:
    first = {**json.loads(lines[0]), **values}
    return [json.dumps(first), *lines[1:]]


# Each keeps the file in the form DuckDB reads exactly as Python does.
PLAIN_VARIANTS = {
    "nulls": lambda lines: _with_values(lines, urn=None, extracted_at=None),
    "a boolean": lambda lines: _with_values(lines, urn=True),
    "an integer": lambda lines: _with_values(lines, urn=100123),
    "a negative integer": lambda lines: _with_values(lines, urn=-5),
    "zero": lambda lines: _with_values(lines, urn=0),
    "unknown keys and names": lambda lines: [
        json.dumps({**json.loads(line), "forename": "Ann", "notes": [1, {"a": 2.5}]})
        for line in lines
    ],
    "a missing key": lambda lines: [
        json.dumps({k: v for k, v in json.loads(line).items() if k != "extracted_at"})
        if number % 2
        else line
        for number, line in enumerate(lines)
    ],
    "blank lines": lambda lines: ["", lines[0], "   ", "", *lines[1:], "\t"],
    "CRLF line ends": lambda lines: [line + "\r" for line in lines],
    "escapes in strings": lambda lines: _with_values(lines, urn='A"\\\n\u00e9\t/'),
    "spaces around": lambda lines: ["  " + lines[0] + "  ", *lines[1:]],
}

# Each takes the file out of that form: Python reads the whole file.
PYTHON_VARIANTS = {
    "a float": lambda lines: _with_values(lines, urn=1.0),
    "a large number": lambda lines: [lines[0][:-1] + ', "urn": 1e400}', *lines[1:]],
    "a nested value": lambda lines: _with_values(lines, urn=[1, 2]),
    "an upper-case key": lambda lines: [lines[0].replace('"urn"', '"URN"'), *lines[1:]],
    "a key with spaces": lambda lines: [lines[0].replace('"urn"', '" urn "'), *lines[1:]],
    "a repeated key": lambda lines: [lines[0][:-1] + ', "urn": "X"}', *lines[1:]],
    "a trailing comma": lambda lines: [lines[0][:-1] + ", }", *lines[1:]],
    "a broken line": lambda lines: [lines[0], "{not json", *lines[1:]],
    "a line that is not an object": lambda lines: [lines[0], "[1, 2]", '"text"', *lines[1:]],
    "NaN": lambda lines: [lines[0][:-1] + ', "urn": NaN}', *lines[1:]],
    "a line separator in a string": lambda lines: [
        lines[0][:-1] + ', "urn": "a\u2028b"}',
        *lines[1:],
    ],
    "a lone surrogate": lambda lines: [lines[0][:-1] + ', "x": "\\ud800"}', *lines[1:]],
    "a bare carriage return": lambda lines: [lines[0] + "\r" + lines[0], *lines[1:]],
}


@pytest.mark.parametrize("name", PLAIN_VARIANTS)
def test_plain_variants_are_read_by_duckdb(jsonl_files: list[Path], name: str) -> None:
    for path in jsonl_files:
        extract = _extract(path)
        text = _variant(path, PLAIN_VARIANTS[name])
        assert read_plain_jsonl(extract.kind, text) is not None, (name, path)
        _both_ways(extract, text)


@pytest.mark.parametrize("name", PYTHON_VARIANTS)
def test_other_files_fall_back_to_python(jsonl_files: list[Path], name: str) -> None:
    for path in jsonl_files:
        extract = _extract(path)
        text = _variant(path, PYTHON_VARIANTS[name])
        assert read_plain_jsonl(extract.kind, text) is None, (name, path)
        _both_ways(extract, text)


def test_a_missing_column_rejects_the_file_as_python_does(jsonl_files: list[Path]) -> None:
    path = next(p for p in jsonl_files if p.name.startswith("marks"))
    extract = _extract(path)
    text = _variant(
        path,
        lambda lines: [
            json.dumps({k: v for k, v in json.loads(line).items() if k != "session"})
            for line in lines
        ],
    )
    assert read_plain_jsonl(extract.kind, text) is not None
    with pytest.raises(FileRejected) as python:
        list(read_rows(extract, text))
    with pytest.raises(FileRejected) as duck:
        read_batch(extract, text, RowBatch(extract.kind))
    assert str(duck.value) == str(python.value)
    assert "no column session" in str(duck.value)
