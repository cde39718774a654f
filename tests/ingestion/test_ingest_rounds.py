"""Ingesting in rounds of many files ends exactly where ingesting one file at a time does.

The landing folders hold what makes files of one morning interact: two extracts of a school
in one morning, a marks file outside its school's folder, marks that arrive before their
pupil's pupils row, a rejected file, bad rows, the same bytes under another path, and an old
extract arriving after a newer one.
"""

import csv
import gzip
import io
import shutil
from datetime import UTC, timedelta
from pathlib import Path

import duckdb

from ingestion.contract import MARKS
from ingestion.ingest import LoadSummary, ingest_landing
from ingestion.rules.upn import make_upn
from synthetic import SyntheticLA
from tests.support.extracts import deliver
from tests.support.source import read_rows

EVENT_TABLES = ("events.school_events", "events.pupil_events", "events.mark_events")
# Codes a generated mark is turned into by the second extract of a morning.
OTHER_CODE = {"/": "I", "\\": "M", "I": "/", "M": "\\"}


def _stamp(la: SyntheticLA, day_index: int, hours_later: float = 0) -> str:
    when = la.extract_time(day_index) + timedelta(hours=hours_later)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")


def _iso(la: SyntheticLA, day_index: int, hours_later: float) -> str:
    return (la.extract_time(day_index) + timedelta(hours=hours_later)).isoformat()


def _marks_of(folder: Path) -> list[dict[str, str]]:
    [path] = [p for p in folder.iterdir() if p.name.startswith("marks")]
    return [row.values for row in read_rows(MARKS, path, 0)]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(c for row in rows for c in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue())


def _changed(rows: list[dict[str, str]], extracted_at: str) -> list[dict[str, str]]:
    """The rows as a later extract sends them: every other known code changed."""
    changed = []
    for number, row in enumerate(rows):
        code = row.get("code", "")
        if number % 2 == 0 and code in OTHER_CODE:
            code = OTHER_CODE[code]
        changed.append({**row, "code": code, "last_modified": "", "extracted_at": extracted_at})
    return changed


def _first_morning(la: SyntheticLA, source: Path, landing: Path) -> None:
    """Days 0, 1, 2 and 4 (day 3 comes late) and the files that make rounds interact."""
    for day in (0, 1, 2, 4):
        for school in la.schools:
            stamp = _stamp(la, day)
            shutil.copytree(source / school.urn / stamp, landing / school.urn / stamp)
    first, second, third, fourth = (s.urn for s in la.schools[:4])
    day4 = _stamp(la, 4)
    # A file that cannot be read: rejected whole, the rest of its folder ingested.
    (landing / first / day4 / "marks-extra.csv.gz").write_bytes(
        gzip.compress(b"urn,upn,session_date,session,code,extracted_at\n", mtime=0)[:20]
    )
    # The same bytes under another path: read again, all duplicates.
    shutil.copytree(source / second / _stamp(la, 1), landing / "resent" / second / _stamp(la, 1))
    # Two extracts of one school in one morning; the second changes marks of the first.
    own = _marks_of(landing / third / day4)
    _write_csv(landing / third / _stamp(la, 4, 3) / "marks.csv", _changed(own, _iso(la, 4, 3)))
    # A marks file outside its school's folder, later than the school's own.
    theirs = _marks_of(landing / fourth / day4)
    forwarded = landing / "forwarded" / _stamp(la, 4, 2) / "marks.csv"
    _write_csv(forwarded, _changed(theirs, _iso(la, 4, 2)))
    # Marks for a pupil whose pupils row comes in the next folder: quarantined, as in turn.
    upn = make_upn("881", fourth[-4:], 2016, 999)
    sample = theirs[0]
    newcomer = [{**sample, "upn": upn, "extracted_at": _iso(la, 4, 1), "last_modified": ""}]
    _write_csv(landing / fourth / _stamp(la, 4, 1) / "marks.csv", newcomer)
    pupil = {
        "urn": fourth,
        "upn": upn,
        "date_of_birth": "2016-01-02",
        "sex": "F",
        "ncy": "4",
        "admission_date": "2025-09-01",
        "sen_provision": "N",
        "fsm_eligible": "false",
        "extracted_at": _iso(la, 4, 1.5),
    }
    _write_csv(landing / fourth / _stamp(la, 4, 1.5) / "pupils.csv", [pupil])


def _late_morning(la: SyntheticLA, source: Path, landing: Path) -> None:
    """Day 5, and day 3's extracts arriving only now (older than day 4's, already in)."""
    for day in (3, 5):
        for school in la.schools:
            stamp = _stamp(la, day)
            shutil.copytree(source / school.urn / stamp, landing / school.urn / stamp)


def _ingest_both_mornings(
    la: SyntheticLA, source: Path, root: Path, window_files: int
) -> list[LoadSummary]:
    landing, database = root / "landing", root / "wh.duckdb"
    _first_morning(la, source, landing)
    summaries = [ingest_landing(landing, database, "first", lambda _: None, window_files)]
    _late_morning(la, source, landing)
    summaries.append(ingest_landing(landing, database, "late", lambda _: None, window_files))
    return summaries


def _contents(database: Path) -> dict[str, list[tuple]]:
    tables = (*EVENT_TABLES, "ops.quarantine", "ops.ingest_audit")
    with duckdb.connect(str(database), read_only=True) as con:
        # ingested_at is when the transaction ran: one per round, one per file in turn.
        return {
            t: con.execute(f"select * exclude (ingested_at) from {t} order by all").fetchall()
            for t in tables
        }


def test_rounds_land_what_one_file_at_a_time_lands(tiny_la: SyntheticLA, tmp_path: Path) -> None:
    source = tmp_path / "source"
    deliver(tiny_la, source, range(6))
    in_turn = _ingest_both_mornings(tiny_la, source, tmp_path / "in_turn", window_files=1)
    rounds = _ingest_both_mornings(tiny_la, source, tmp_path / "rounds", window_files=2_000)

    expected, got = (
        _contents(tmp_path / "in_turn" / "wh.duckdb"),
        _contents(tmp_path / "rounds" / "wh.duckdb"),
    )
    for table, rows in expected.items():
        assert got[table] == rows, table
    for one, other in zip(in_turn, rounds, strict=True):
        assert one.files == other.files
        assert one.files_already_ingested == other.files_already_ingested
    assert in_turn[1].files_already_ingested == len(in_turn[0].files)

    # What the folders were made to provoke did happen (so the comparison means something).
    audit = {row[0]: row for row in expected["ops.ingest_audit"]}
    rejected = [path for path, row in audit.items() if row[6]]
    assert len(rejected) == 1 and "truncated or damaged" in audit[rejected[0]][7]
    resent = [row for path, row in audit.items() if path.startswith("resent/")]
    assert resent and all(row[3] == 0 and row[4] > 0 for row in resent if row[2] > 0)
    reasons = [row[2] for row in expected["ops.quarantine"]]
    newcomer = make_upn("881", tiny_la.schools[3].urn[-4:], 2016, 999)
    assert any(f"pupil {newcomer} has never been on roll" in r for r in reasons)
    assert any("is not a register code" in r for r in reasons)
    changes = [row for row in expected["events.mark_events"] if row[1] == "mark_changed"]
    for hours in (2, 3):
        assert any(_stamp(tiny_la, 4, hours) in row[-2] for row in changes), hours
    # Files of a morning did share rounds, and conflicting ones did not.
    with duckdb.connect(str(tmp_path / "rounds" / "wh.duckdb"), read_only=True) as con:
        (landed,) = con.execute(
            "select count(distinct ingested_at) from ops.ingest_audit where load_id = 'first'"
        ).fetchone()
    assert 1 < landed < len(rounds[0].files) / 4
