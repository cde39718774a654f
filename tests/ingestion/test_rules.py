"""The SQL check of whole files (rules/sql_rules) against the row-by-row rules
(rules/row_rules.clean_row): same valid rows with the same values, same quarantined lines
with the same reasons."""

import itertools
from pathlib import Path
from unittest import mock

import duckdb
import pytest

from ingestion.ingest import _for_stream
from ingestion.landing import extract_time_of, find_extract_files
from ingestion.readers import RowBatch, decode, read_batch, read_bytes
from ingestion.rules import sql_rules
from ingestion.rules.row_rules import RowInvalid, clean_row
from ingestion.rules.sql_rules import prepare, stage_valid_rows
from tests.support.extracts import TINY, deliver

# Spellings a real MIS uses that the contract accepts or refuses; each replaces a generated value,
# so every one is checked both ways on rows that are otherwise real.
VARIANTS = {
    "session": ["am", "Pm", " AM", "AM ", "XM", ""],
    "code": ["i", " I", "ZZ", "N", ""],
    "minutes_late": ["5", "+5", " 7", "5.0", "x", "-3", "1440", "1441", "123456789", "12345678901"],
    "last_modified": [
        "2025-09-02T09:10:00Z",
        "2025-09-02T09:10:00.5+01:00",
        "2025-09-02 09:10:00+01:00",
        "2025-09-02T09:10:00",
        "2025-09-02T24:10:00+01:00",
        "2025-02-30T09:10:00+01:00",
        "",
    ],
    "extracted_at": ["2025-09-05T15:05:00-05:00", "2025-09-05T15:05:00+14:00", "yesterday"],
    "session_date": ["2025-09-06", "2025-9-02", "0000-01-01", "2025-02-29", " 2025-09-02"],
    "upn": ["a123", "lower", "I881100019000"],
    "urn": ["12345", "1234567", "10000a"],
    "sen_provision": ["k", "E", "S", "", "ǩ"],
    "sen_primary_need": ["asd", "NSA", "XYZ", ""],
    "sex": ["m", "X", ""],
    "ncy": ["r", "n2", "15", "0", ""],
    "fsm_eligible": ["YES", "no", "maybe", "", "1"],
    "effective_date": ["2025-09-03", "03/09/2025", ""],
    "leaving_date": ["2020-01-01", "2025-09-04", "soon"],
    "date_of_birth": ["2015-13-01", "2015-12-31", ""],
    "admission_date": ["2030-01-01", ""],
}


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory, tiny_la) -> list:
    landing = tmp_path_factory.mktemp("landing")
    deliver(tiny_la, landing, range(TINY.school_days))
    return find_extract_files(landing)


def _reference(batch: RowBatch, extract) -> tuple[list[dict], list[tuple]]:
    """What clean_row makes of every row: typed records and (line, reason, raw)."""
    records, problems = [], []
    for index, line in enumerate(batch.lines):
        values = batch.values(index)
        try:
            record = clean_row(batch.kind, values)
        except RowInvalid as problem:
            problems.append((line, str(problem), values))
            continue
        record = _for_stream(batch.kind, record, extract_time_of(extract.path))
        records.append({**record, "line": line})
    return records, problems


def _varied(batch: RowBatch) -> RowBatch:
    """The batch with one variant spelling in each of a spread of its rows."""
    columns = {c: list(v) for c, v in batch.columns.items()}
    changes = [(c, v) for c, values in VARIANTS.items() if c in columns for v in values]
    for index, (column, value) in zip(itertools.count(0, 3), changes, strict=False):
        if index >= len(batch.lines):
            break
        columns[column][index] = value
    present = [p | {c for c, _ in changes} for p in batch.present]
    return RowBatch(batch.kind, list(batch.lines), columns, present, list(batch.problems))


def _staged(batch: RowBatch, extract) -> tuple[list[dict], list[tuple], int]:
    """The SQL check's records and problems, and how many rows it passed without Python."""
    schema = batch.kind.arrow_schema()
    # Every row the SQL check does not pass goes to clean_row: count those.
    with_python = mock.patch.object(sql_rules, "clean_row", wraps=sql_rules.clean_row)
    with duckdb.connect() as con, with_python as in_python:
        prepare(con)
        problems = stage_valid_rows(
            con,
            batch,
            lambda record: _for_stream(batch.kind, record, extract_time_of(extract.path)),
            schema,
        )
        rows = con.execute(f"select {', '.join(schema.names)} from incoming order by line")
        names = [d[0] for d in rows.description]
        records = [dict(zip(names, r, strict=True)) for r in rows.fetchall()]
    return records, problems, len(batch.lines) - in_python.call_count


def test_sql_check_agrees_with_clean_row(extracts: list) -> None:
    checked = {"schools": 0, "pupils": 0, "marks": 0}
    quarantined = fast_rows = 0
    for extract in extracts:
        data, _ = read_bytes(extract.path)
        batch = RowBatch(extract.kind)
        read_batch(extract, decode(extract.path, data), batch)
        for candidate in (batch, _varied(batch)):
            expected_records, expected_problems = _reference(candidate, extract)
            records, problems, fast = _staged(candidate, extract)
            fast_rows += fast
            assert problems == expected_problems, extract.path
            assert len(records) == len(expected_records), extract.path
            for got, want in zip(records, expected_records, strict=True):
                assert got == {k: want[k] for k in got}, (extract.path, got["line"])
            checked[batch.kind.name] += len(candidate.lines)
            quarantined += len(problems)
    assert all(checked.values()), checked
    # The generator's bad rows and the variants above: a real share of rows is refused.
    assert quarantined > 50
    # And the SQL check itself passed most rows (not everything fell back to clean_row).
    assert fast_rows > 0.8 * (checked["pupils"] + checked["marks"])


def test_batch_reads_the_same_rows_as_read_rows(extracts: list) -> None:
    from ingestion.readers import Row, read_rows

    for extract in extracts:
        data, _ = read_bytes(extract.path)
        text = decode(extract.path, data)
        batch = RowBatch(extract.kind)
        read_batch(extract, text, batch)
        rows = list(read_rows(extract, text))
        assert batch.rows_read == len(rows)
        good = [r for r in rows if isinstance(r, Row)]
        assert [r.line for r in good] == batch.lines
        known = set(extract.kind.known_columns)
        for index, row in enumerate(good):
            assert batch.values(index) == {k: v for k, v in row.values.items() if k in known}


def test_unknown_path_kind_is_none(tmp_path: Path) -> None:
    assert find_extract_files(tmp_path) == []
