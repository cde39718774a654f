"""Reading a round's files with DuckDB (`round_reader`) gives, line for line, the rows and
values Python's own csv and json modules read from the same files, for the generator's files
and for the spellings real exports use; and what DuckDB cannot split is a problem or a
rejection with its line, never a silent loss."""

import csv
import io
import json
import tempfile
from pathlib import Path

import duckdb
import pytest

from ingestion.contract import MARKS, kind_of
from ingestion.intake import take_in
from ingestion.landing import ExtractFile, find_extract_files
from ingestion.limits import Limits
from ingestion.round_reader import read_round
from synthetic import SyntheticLA
from tests.support.extracts import deliver


@pytest.fixture(scope="module")
def generated(tiny_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    landing = tmp_path_factory.mktemp("reader") / "landing"
    deliver(tiny_la, landing, range(3))
    return [e.path for e in find_extract_files(landing)]


def _text(path: Path) -> str:
    import gzip

    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8-sig")


def _python_rows(path: Path, text: str) -> dict[int, dict[str, str]]:
    """Line -> known column -> text, as Python's csv/json modules read the file."""
    kind = kind_of(path.name)
    rows = {}
    if ".jsonl" in path.name:
        for line, source in enumerate(text.split("\n"), start=1):
            if source.strip(" \t\r"):
                record = {k.strip().lower(): v for k, v in json.loads(source).items()}
                rows[line] = {
                    c: _json_text(record.get(c)) for c in kind.known_columns if c in record
                }
        return rows
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [c.strip().lower() for c in next(reader)]
    for fields in reader:
        if len(fields) == len(header):
            values = dict(zip(header, fields, strict=True))
            rows[reader.line_num] = {c: values[c] for c in kind.known_columns if c in values}
    return rows


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "{…}" if isinstance(value, dict) else "[…]"
    return str(value)


def _read(paths: list[Path], tmp_path: Path, limits: Limits | None = None) -> dict:
    """Each file's rows (line -> present known values), problems and rejection, read as one
    round per kind."""
    limits = limits or Limits()
    staging = Path(tempfile.mkdtemp(dir=tmp_path))
    landing = Path("/")
    found: dict[Path, dict] = {}
    with duckdb.connect() as con:
        by_kind: dict[str, list] = {}
        for number, path in enumerate(paths):
            intake = take_in(
                landing, ExtractFile(path, kind_of(path.name)), staging, number, limits
            )
            found[path] = {"rows": {}, "problems": [], "rejected": intake.outcome.reason}
            if not intake.outcome.rejected:
                by_kind.setdefault(intake.extract.kind.name, []).append(intake)
        for members in by_kind.values():
            kind = members[0].extract.kind
            read = read_round(con, kind, members, limits)
            names = ", ".join(kind.known_columns)
            for number, line, present, *values in con.execute(
                f"select file_no, line, present, {names} from landed_rows order by file_no, line"
            ).fetchall():
                row = dict(zip(kind.known_columns, values, strict=True))
                path = members[number].extract.path
                found[path]["rows"][line] = {c: row[c] for c in present}
            for number, member in enumerate(members):
                entry = found[member.extract.path]
                entry["problems"] = read.problems.get(number, [])
                entry["rejected"] = read.rejected.get(number)
                rows_read = read.rows_read.get(number, member.data_lines)
                assert rows_read == len(entry["rows"]) + len(entry["problems"]) or entry["rejected"]
    return found


def test_generated_files_are_read_as_python_reads_them(generated: list[Path], tmp_path: Path):
    found = _read(generated, tmp_path)
    formats = set()
    for path in generated:
        assert found[path]["rejected"] is None, path
        assert found[path]["problems"] == [], path
        assert found[path]["rows"] == _python_rows(path, _text(path)), path
        formats.add(path.name.split(".", 1)[1])
    assert formats == {"csv", "csv.gz", "jsonl", "jsonl.gz"}


HEADER = "URN, upn ,session_date,session,code,extracted_at,forename,notes"
ROW = "100001,A881200100001,2025-09-15,AM,/,2025-09-15T16:05:00+01:00,Ann,x"
# name -> (text, expected lines read as rows, problem lines, a fragment of the rejection)
CSV_CASES = {
    "plain": (f"{HEADER}\n{ROW}\n{ROW.replace('AM', 'PM')}\n", [2, 3], [], None),
    "crlf, no last line end": (f"{HEADER}\r\n{ROW}\r\n{ROW}", [2, 3], [], None),
    "spaces and empty fields": (f"{HEADER}\n 100001 ,,2025-09-15,am,,, ,\n", [2], [], None),
    "quoted field": (
        f'{HEADER}\n{ROW}\n100001,"A881,200100001",2025-09-15,AM,/,t,n,x\n',
        [2, 3],
        [],
        None,
    ),
    "quoted comma in a name": (
        f"{HEADER}\n{ROW.replace('Ann', chr(34) + 'Ann, Jo' + chr(34))}\n",
        [2],
        [],
        None,
    ),
    "blank line": (f"{HEADER}\n{ROW}\n\n{ROW}\n", [2, 4], [], None),
    "blank second line": (f"{HEADER}\n\n{ROW}\n", [3], [], None),
    "short row": (f"{HEADER}\n{ROW}\n100001,A881200100001\n{ROW}\n", [2, 4], [3], None),
    "long row (an unquoted comma)": (f"{HEADER}\n{ROW},extra\n{ROW}\n", [3], [2], None),
    "header only": (f"{HEADER}\n", [], [], None),
    "lone carriage return": (f"{HEADER}\n{ROW}\r{ROW}\n", [], [], "carriage return on its own"),
    "repeated column": (f"{HEADER},code\n{ROW},M\n", [], [], "names column code more than once"),
    "stray quote": (
        f"{HEADER}\n{ROW}\n{ROW.replace('Ann', chr(34) + 'Ann')}\n" + f"{ROW}\n" * 10,
        [],
        [],
        "line 3: a quote is never closed",
    ),
    "a line break in a quoted value": (
        f"{HEADER}\n{ROW.replace('Ann', chr(34) + 'A' + chr(10) + 'nn' + chr(34))}\n{ROW}\n",
        [],
        [],
        "spans more than one line",
    ),
    "no header": (f"{ROW}\n{ROW}\n", [], [], "the first line is not a header"),
}


@pytest.mark.parametrize("name", list(CSV_CASES))
def test_csv_spellings(name: str, tmp_path: Path) -> None:
    text, rows, problems, rejected = CSV_CASES[name]
    path = tmp_path / "100001" / "2025-09-15T16-05-00Z" / "marks.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(text.encode("utf-8"))
    found = _read([path], tmp_path)[path]
    if rejected:
        assert rejected in (found["rejected"] or ""), found
        # The reason never repeats the file's content.
        assert "Ann" not in found["rejected"] and "A881200100001" not in found["rejected"]
        return
    assert found["rejected"] is None, found
    assert sorted(found["rows"]) == rows
    assert [line for line, _ in found["problems"]] == problems
    assert all(reason.startswith("the row has ") for _, reason in found["problems"])
    expected = _python_rows(path, text)
    assert found["rows"] == {line: expected[line] for line in rows}


def _with_values(lines: list[str], **values: object) -> list[str]:
    first = {**json.loads(lines[0]), **values}
    return [json.dumps(first), *lines[1:]]


# Each is read as Python reads it.
JSONL_VARIANTS = {
    "nulls": lambda lines: _with_values(lines, urn=None, extracted_at=None),
    "a boolean": lambda lines: _with_values(lines, urn=True),
    "an integer": lambda lines: _with_values(lines, urn=100123),
    "a negative integer": lambda lines: _with_values(lines, urn=-5),
    "a float": lambda lines: _with_values(lines, urn=1.5),
    "a nested value": lambda lines: _with_values(lines, code={"forename": "Bob"}, urn=[1, 2]),
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
    "blank lines": lambda lines: [lines[0], "   ", "", *lines[1:], "\t"],
    "CRLF line ends": lambda lines: [line + "\r" for line in lines],
    "escapes in strings": lambda lines: _with_values(lines, urn='A"\\\u00e9\t/'),
    "spaces around": lambda lines: ["  " + lines[0] + "  ", *lines[1:]],
    "an upper-case key": lambda lines: [lines[0].replace('"urn"', '"URN"'), *lines[1:]],
    "a key with spaces": lambda lines: [lines[0].replace('"urn"', '" urn "'), *lines[1:]],
    "a line separator in a string": lambda lines: _with_values(lines, urn="a\u2028b"),
}
# Each line of these is a problem of its own, with the line's number.
JSONL_PROBLEMS = {
    "a broken line": (lambda lines: [lines[0], "{not json", *lines[1:]], 2, "not valid JSON"),
    "not an object": (lambda lines: [lines[0], "[1, 2]", *lines[1:]], 2, "not a JSON object"),
    "a repeated key": (
        lambda lines: [lines[0], lines[1][:-1] + ', "URN": "X"}', *lines[2:]],
        2,
        "names column urn more than once",
    ),
}


def _jsonl_file(generated: list[Path], tmp_path: Path, change) -> tuple[Path, str]:  # noqa: ANN001
    source = next(p for p in generated if p.name == "marks.jsonl")
    lines = _text(source).splitlines()
    text = "\n".join(change(lines)) + "\n"
    path = tmp_path / source.relative_to(source.parents[2])
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize("name", list(JSONL_VARIANTS))
def test_jsonl_spellings(generated: list[Path], tmp_path: Path, name: str) -> None:
    path, text = _jsonl_file(generated, tmp_path, JSONL_VARIANTS[name])
    found = _read([path], tmp_path)[path]
    assert found["rejected"] is None and found["problems"] == []
    assert found["rows"] == _python_rows(path, text.replace("\r", ""))


@pytest.mark.parametrize("name", list(JSONL_PROBLEMS))
def test_jsonl_lines_that_cannot_be_read(generated: list[Path], tmp_path: Path, name: str):
    change, line, reason = JSONL_PROBLEMS[name]
    path, text = _jsonl_file(generated, tmp_path, change)
    found = _read([path], tmp_path)[path]
    assert found["rejected"] is None
    assert [(n, r) for n, r in found["problems"] if reason in r] == [
        (line, found["problems"][0][1])
    ]
    lines = text.splitlines()
    assert sorted(found["rows"]) == [n for n in range(1, len(lines) + 1) if n != line]


def test_limits_reject_the_file_with_its_line(tmp_path: Path) -> None:
    header = ",".join(MARKS.file_columns)
    path = tmp_path / "100001" / "2025-09-15T16-05-00Z" / "marks.csv"
    path.parent.mkdir(parents=True)
    long_value = "x" * 5000
    path.write_text(f"{header}\n{ROW}\n100001,{long_value},2025-09-15,AM,/,,,\n")
    found = _read([path], tmp_path, Limits(field_bytes=4096))[path]
    assert "line 3 holds a value longer than 4 KiB" in found["rejected"]
    found = _read([path], tmp_path, Limits(line_bytes=1024))[path]
    assert "line 3 is longer than 1 KiB" in found["rejected"]
    assert long_value not in found["rejected"]
