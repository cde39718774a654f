"""CSV files read by Arrow (`readers._plain_csv_batch`) give exactly what `csv.reader` gives,
and files outside the plain form still go to `csv.reader`."""

from pathlib import Path

import pytest

from ingestion.contract import MARKS
from ingestion.landing import ExtractFile
from ingestion.readers import (
    FileRejected,
    Row,
    RowBatch,
    RowProblem,
    _plain_csv_batch,
    read_batch,
    read_rows,
)

HEADER = "URN, upn ,session_date,session,code,extracted_at,forename,notes"
ROW = "100001,A881200100001,2025-09-15,AM,/,2025-09-15T16:05:00+01:00,Ann,x"
CASES = {
    "plain": f"{HEADER}\n{ROW}\n{ROW.replace('AM', 'PM')}\n",
    "crlf, no last line end": f"{HEADER}\r\n{ROW}\r\n{ROW}",
    "spaces and empty fields": f"{HEADER}\n 100001 ,,2025-09-15,am,,, ,\n",
    "quoted field": f'{HEADER}\n{ROW}\n100001,"A881,200100001",2025-09-15,AM,/,t,n,x\n',
    "blank line": f"{HEADER}\n{ROW}\n\n{ROW}\n",
    "blank second line": f"{HEADER}\n\n{ROW}\n",
    "short row": f"{HEADER}\n{ROW}\n100001,A881200100001\n{ROW}\n",
    "long row": f"{HEADER}\n{ROW},extra\n",
    "lone carriage return": f"{HEADER}\n{ROW}\r{ROW}\n",
    "repeated column": f"{HEADER},code\n{ROW},M\n",
    "header only": f"{HEADER}\n",
}


def _read(text: str) -> tuple[list, list, RowBatch]:
    extract = ExtractFile(Path("marks.csv"), MARKS)
    batch = RowBatch(MARKS)
    read_batch(extract, text, batch)
    rows = list(read_rows(extract, text))
    return rows, [r for r in rows if isinstance(r, Row)], batch


@pytest.mark.parametrize("name", list(CASES))
def test_plain_csv_reads_as_csv_reader_does(name: str) -> None:
    text = CASES[name]
    rows, good, batch = _read(text)
    assert batch.lines == [r.line for r in good]
    assert [(p.line, p.reason, p.raw) for p in batch.problems] == [
        (p.line, p.reason, p.raw) for p in rows if isinstance(p, RowProblem)
    ]
    known = set(MARKS.known_columns)
    for index, row in enumerate(good):
        assert batch.values(index) == {k: v for k, v in row.values.items() if k in known}
    for column in MARKS.known_columns:
        assert list(batch.columns[column]) == [r.values.get(column, "") for r in good]


def test_only_plain_files_are_read_by_arrow() -> None:
    plain = {"plain", "crlf, no last line end", "spaces and empty fields"}
    for name, text in CASES.items():
        assert _plain_csv_batch(MARKS, text, RowBatch(MARKS)) == (name in plain), name


def test_a_plain_file_without_a_required_column_is_rejected() -> None:
    with pytest.raises(FileRejected, match="has no column upn"):
        _read("urn,session_date,session,code,extracted_at\n100001,2025-09-15,AM,/,t\n")
