"""The column-wise reader (readers.read_batch) reads the same rows as the row reader."""

from pathlib import Path

import pytest

from ingestion.landing import find_extract_files
from ingestion.readers import Row, RowBatch, decode, read_batch, read_bytes, read_rows
from tests.support.extracts import TINY, deliver


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory, tiny_la) -> list:
    landing = tmp_path_factory.mktemp("landing")
    deliver(tiny_la, landing, range(TINY.school_days))
    return find_extract_files(landing)


def test_batch_reads_the_same_rows_as_read_rows(extracts: list) -> None:
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
