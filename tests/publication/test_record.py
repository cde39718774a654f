"""The publication record: the same facts in publication.json, the `publication` table and the
asset event's extra; an older record without the newer fields still reads."""

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from publication.record import (
    RECORD_FILE,
    PublicationRecord,
    PublishingRun,
    fingerprints,
    read_record,
    write_record_file,
    write_record_table,
)
from synthetic import SyntheticLA

RECORD = PublicationRecord(
    version="v20250904T170501123456Z",
    published_at="2025-09-04T17:05:01.123456+00:00",
    as_of="2025-09-04 16:05:00+01",
    loaded_through="2025-09-04 17:04:59.5+00",
    rows={"pupil_attendance": 58, "pupils_for_support": 7},
    fingerprints={"pupil_attendance": "58:123", "pupils_for_support": "7:-45"},
    rows_quarantined=20,
    files_rejected=1,
    database="published.duckdb",
    parquet={"pupil_attendance": "parquet/v20250904T170501123456Z/pupil_attendance.parquet"},
    run=PublishingRun(
        dag_id="attendance_daily",
        run_id="scheduled__2025-09-04T17:00:00+00:00",
        register_day="2025-09-04",
        cutoff="2025-09-04T23:59:59.999999+01:00",
        warehouse="/srv/attendance/warehouse",
        missing_schools=("100008", "100015"),
    ),
)


def test_the_record_survives_json_as_the_asset_extra_and_the_file_carry_it(
    tmp_path: Path,
) -> None:
    extra = json.loads(json.dumps(RECORD.as_dict()))
    assert PublicationRecord.from_dict(extra) == RECORD
    write_record_file(tmp_path, RECORD)
    assert read_record(tmp_path) == RECORD
    assert [p.name for p in tmp_path.iterdir()] == [RECORD_FILE]


def test_the_runs_facts_are_flat_in_the_dictionary() -> None:
    """Downstream runs and the audit read `warehouse`, `register_day` and `missing_schools`
    at the top of the event's extra."""
    values = RECORD.as_dict()
    assert "run" not in values
    assert values["warehouse"] == "/srv/attendance/warehouse"
    assert values["register_day"] == "2025-09-04"
    assert values["missing_schools"] == ["100008", "100015"]
    assert values["version"] == RECORD.version and values["rows"] == RECORD.rows


def test_an_older_record_without_the_newer_fields_still_reads(tmp_path: Path) -> None:
    older = {
        "version": "v20250101T000000000000Z",
        "published_at": "2025-01-01T00:00:00+00:00",
        "as_of": "2024-12-31 16:05:00+00",
        "rows": {"pupil_attendance": 3},
        "parquet": {},
    }
    (tmp_path / RECORD_FILE).write_text(json.dumps(older))
    record = read_record(tmp_path)
    assert record is not None
    assert (record.version, record.as_of, record.rows) == (
        older["version"],
        older["as_of"],
        {"pupil_attendance": 3},
    )
    assert (record.loaded_through, record.fingerprints) == (None, {})
    assert (record.rows_quarantined, record.files_rejected) == (0, 0)
    assert record.database == "published.duckdb"
    assert record.run == PublishingRun()


def test_a_newer_record_with_fields_this_one_does_not_know_still_reads() -> None:
    newer = {**RECORD.as_dict(), "published_by": "someone", "schema_version": 2}
    assert PublicationRecord.from_dict(newer) == RECORD


def test_a_folder_without_a_record_has_no_publication(tmp_path: Path) -> None:
    assert read_record(tmp_path) is None


def test_the_publication_table_holds_the_records_facts() -> None:
    with duckdb.connect() as con:
        con.execute("set timezone = 'UTC'")
        write_record_table(con, RECORD)
        row = con.execute(
            "select version, published_at, as_of, cutoff, loaded_through, register_day, run_id, "
            "rows_quarantined, files_rejected from main.publication"
        ).fetchall()
    assert len(row) == 1
    version, published_at, as_of, cutoff, loaded, day, run_id, quarantined, rejected = row[0]
    assert version == RECORD.version and run_id == RECORD.run.run_id
    for stored, text in (
        (published_at, RECORD.published_at),
        (as_of, RECORD.as_of),
        (cutoff, RECORD.run.cutoff),
        (loaded, RECORD.loaded_through),
    ):
        assert stored == datetime.fromisoformat(text), text
    assert day.isoformat() == RECORD.run.register_day
    assert (quarantined, rejected) == (20, 1)


@pytest.fixture
def marks_table(tiny_la: SyntheticLA) -> list[tuple]:
    """The generator's marks as rows (urn, upn, session_date, session, code)."""
    return [(*key, mark.code) for key, mark in tiny_la.marks.items()]


def test_fingerprints_are_equal_for_equal_rows_in_any_order_and_differ_otherwise(
    marks_table: list[tuple],
) -> None:
    def fingerprint(rows: list[tuple]) -> str:
        with duckdb.connect() as con:
            con.execute(
                "create table main.marks "
                "(urn varchar, upn varchar, session_date date, session varchar, code varchar)"
            )
            con.executemany("insert into main.marks values (?, ?, ?, ?, ?)", rows)
            return fingerprints(con, ("marks",))["marks"]

    as_generated = fingerprint(marks_table)
    assert as_generated.startswith(f"{len(marks_table)}:")
    assert fingerprint(list(reversed(marks_table))) == as_generated
    changed = [*marks_table[:-1], (*marks_table[-1][:4], "Z" if marks_table[-1][4] != "Z" else "N")]
    assert fingerprint(changed) != as_generated
    assert fingerprint(marks_table[:-1]) != as_generated
