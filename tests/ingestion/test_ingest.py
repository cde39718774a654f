import gzip
import json
from pathlib import Path

import duckdb
import pytest

from ingestion.ingest import ingest_landing
from synthetic import SyntheticLA
from tests.support.extracts import deliver


def _audit(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select path, rows_read, rows_new, rows_duplicate, rows_quarantined, rejected, reason "
            "from ops.ingest_audit order by path"
        ).fetchall()


def _count(database: Path, sql: str) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_every_row_is_accounted_for(tiny_la: SyntheticLA, tmp_path: Path) -> None:
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    deliver(tiny_la, landing, range(6))
    summary = ingest_landing(landing, db)
    audit = _audit(db)
    assert len(audit) == len(list(landing.rglob("*.*"))) == len(summary.files)
    for path, read, new, duplicate, quarantined, rejected, _ in audit:
        assert not rejected, path
        assert read == new + duplicate + quarantined, path
    # Rows read equals the data lines the generator wrote (one per row in every file).
    lines = 0
    for file in landing.rglob("*.*"):
        data = file.read_bytes()
        text = (gzip.decompress(data) if file.name.endswith(".gz") else data).decode("utf-8-sig")
        lines += len(text.splitlines()) - (0 if ".jsonl" in file.name else 1)
    assert sum(row[1] for row in audit) == lines


def test_second_ingest_adds_nothing(tiny_la: SyntheticLA, tmp_path: Path) -> None:
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    deliver(tiny_la, landing, range(3))
    ingest_landing(landing, db)
    events = _count(db, "select count(*) from events.mark_events")
    again = ingest_landing(landing, db)
    assert again.files == [] and again.files_already_ingested == len(_audit(db))
    # The same bytes under another path are read again, and all of it is duplicate.
    copy = tmp_path / "landing2"
    deliver(tiny_la, copy, range(3))
    repeat = ingest_landing(copy, db)
    assert repeat.total("rows_new") == 0
    assert _count(db, "select count(*) from events.mark_events") == events


def test_overlapping_windows_store_each_mark_once_plus_its_changes(
    tiny_la: SyntheticLA, tmp_path: Path
) -> None:
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    deliver(tiny_la, landing, range(6))
    ingest_landing(landing, db)
    versions_seen = set()
    for day_index in range(6):
        for key, mark in tiny_la.marks.items():
            session_day = tiny_la.days.index(key[2])
            if session_day in tiny_la.window(day_index):
                versions_seen.add((key, mark.as_seen_on(day_index)[0]))
    assert _count(db, "select count(*) from events.mark_events") == len(versions_seen)


def test_broken_rows_are_quarantined_with_reasons(tiny_la: SyntheticLA, tmp_path: Path) -> None:
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    deliver(tiny_la, landing, range(6))
    ingest_landing(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        reasons = [r for (r,) in con.execute("select reason from ops.quarantine").fetchall()]
        raw = [
            json.loads(r)
            for (r,) in con.execute("select raw_record from ops.quarantine").fetchall()
        ]
    expected_fragments = [
        "fails its check letter: expected",
        "is not a register code",
        "is a Saturday, not a school day",
        "is after the extract was taken",
        "is not a date in the form YYYY-MM-DD",
        "is not AM or PM",
        "has never been on roll at school",
        "sen_primary_need is missing, but is required for provision K",
        "date_of_birth '31/12/2015' is not a date in the form YYYY-MM-DD",
        "admission_date is missing",
    ]
    for fragment in expected_fragments:
        assert sum(fragment in r for r in reasons) >= 1, fragment
    names = tiny_la.forbidden_strings()
    assert not any(name in json.dumps(record) for record in raw for name in names)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "marks.csv.gz",
            gzip.compress(b"urn,upn,session_date,session,code,extracted_at\n")[:20],
            "truncated or damaged",
        ),
        (
            "marks.csv",
            "urn,upn,session_date,session,code,extracted_at\n100001,\xff".encode("latin-1"),
            "not UTF-8",
        ),
        ("marks.csv", b"urn,pupil,session_date,session,code,extracted_at\n", "has no column upn"),
        ("pupils.jsonl", b"", "empty"),
    ],
)
def test_unreadable_files_are_rejected_whole(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    landing, db = tmp_path / "landing", tmp_path / "wh.duckdb"
    (landing / "100001" / "2025-09-01T15-05-00Z").mkdir(parents=True)
    (landing / "100001" / "2025-09-01T15-05-00Z" / name).write_bytes(content)
    summary = ingest_landing(landing, db)
    [outcome] = summary.files
    assert outcome.rejected and reason in (outcome.reason or "")
    assert _count(db, "select count(*) from events.mark_events") == 0
