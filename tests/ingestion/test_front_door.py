"""The landing folder tried as a careless or hostile school would (FEED_SPEC 1.1, "What the
pipeline refuses"): each case is made in the test from generated extracts, ingested with the
rest of a morning, and must be refused on its own, with a reason, storing nothing that could
identify a person beyond UPN and date of birth, and losing no other file's rows."""

import gzip
import json
import os
from pathlib import Path

import duckdb
import pytest

from ingestion.ingest import ingest_landing
from ingestion.limits import Limits
from synthetic import SyntheticLA
from tests.support.extracts import deliver

UNKNOWN = {"phone": "07700 900123", "parent_name": "Zebedee Quint", "home_address": "1 Elm Row"}


@pytest.fixture()
def landing(tiny_la: SyntheticLA, tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    deliver(tiny_la, folder, range(2))
    return folder


def _first(landing: Path, name: str) -> Path:
    return sorted(landing.rglob(name))[0]


def _stored_text(database: Path) -> str:
    """Every value of every table of the warehouse, as one text."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        return "\n".join(
            str(con.execute(f'select * from "{schema}"."{table}"').fetchall())
            for schema, table in tables
        )


def _ingest(landing: Path, tmp_path: Path, limits: Limits | None = None):
    database = tmp_path / "wh.duckdb"
    messages: list[str] = []
    summary = ingest_landing(landing, database, progress=messages.append, limits=limits)
    outcomes = {o.path: o for o in summary.files}
    return database, outcomes, "\n".join(messages)


def _assert_nothing_personal(la: SyntheticLA, *texts: str) -> None:
    for text in texts:
        for forbidden in la.forbidden_strings() | set(UNKNOWN.values()) | {"root:x:0:0"}:
            assert forbidden not in text, forbidden


def _assert_rest_ingested(outcomes: dict, refused: set[str]) -> None:
    for path, outcome in outcomes.items():
        if path in refused:
            continue
        assert not outcome.rejected, (path, outcome.reason)
        assert (
            outcome.rows_read
            == outcome.rows_new + outcome.rows_duplicate + outcome.rows_quarantined
        )


def test_a_file_without_a_header_is_refused_without_echoing_it(landing, tmp_path, tiny_la):
    pupils = _first(landing, "pupils.csv")
    lines = pupils.read_text().splitlines(keepends=True)
    pupils.write_text("".join(lines[1:]))
    database, outcomes, messages = _ingest(landing, tmp_path)
    refused = outcomes[str(pupils.relative_to(landing))]
    assert refused.rejected and "the first line is not a header" in refused.reason
    _assert_rest_ingested(outcomes, {refused.path})
    _assert_nothing_personal(tiny_la, _stored_text(database), messages)


def test_rows_that_do_not_line_up_keep_no_values(landing, tmp_path, tiny_la):
    pupils = _first(landing, "pupils.csv")
    lines = pupils.read_text().splitlines()
    header = lines[0] + "," + ",".join(UNKNOWN)
    rows = [line + "," + ",".join(UNKNOWN.values()) for line in lines[1:]]
    # An unquoted comma in a forename: one field too many, the surname shifts right.
    forename = rows[0].split(",")[2]
    rows[0] = rows[0].replace(f",{forename},", f",{forename},Jr,", 1)
    rows[1] = rows[1].rsplit(",", 2)[0]  # two fields short
    pupils.write_text("\n".join([header, *rows]) + "\n")
    database, outcomes, messages = _ingest(landing, tmp_path)
    with duckdb.connect(str(database), read_only=True) as con:
        kept = con.execute(
            "select line, reason, raw_record from ops.quarantine where path = ? order by line",
            [str(pupils.relative_to(landing))],
        ).fetchall()
    assert (
        2,
        f"the row has {len(header.split(',')) + 1} fields but the header has "
        f"{len(header.split(','))}",
        "{}",
    ) in kept
    assert any(line == 3 and raw == "{}" for line, _, raw in kept)
    # Rows that line up keep only the contract's own columns.
    for _, _, raw in kept:
        assert not set(json.loads(raw)) & set(UNKNOWN)
    _assert_rest_ingested(outcomes, set())
    _assert_nothing_personal(tiny_la, _stored_text(database), messages)


def test_a_stray_quote_rejects_the_file_with_its_line(landing, tmp_path, tiny_la):
    marks = _first(landing, "marks.csv")
    lines = marks.read_text().splitlines()
    lines[2] = lines[2].replace(",", ',"', 1)
    marks.write_text("\n".join(lines) + "\n")
    pupils = _first(landing, "pupils.csv")
    lines = pupils.read_text().splitlines()
    lines[1] = lines[1].replace(",", ',"', 2)  # a quote before a forename, never closed
    pupils.write_text("\n".join(lines) + "\n")
    database, outcomes, messages = _ingest(landing, tmp_path)
    for path, line in ((marks, 3), (pupils, 2)):
        refused = outcomes[str(path.relative_to(landing))]
        assert refused.rejected and f"line {line}: a quote is never closed" in refused.reason
    _assert_rest_ingested(outcomes, {str(p.relative_to(landing)) for p in (marks, pupils)})
    _assert_nothing_personal(tiny_la, _stored_text(database), messages)


def test_a_json_object_in_a_value_is_never_stored(landing, tmp_path, tiny_la):
    marks = _first(landing, "marks.jsonl")
    lines = marks.read_text().splitlines()
    forename = sorted(tiny_la.forbidden_strings())[0]
    record = json.loads(lines[0])
    record["code"] = {"forename": forename}
    marks.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    database, outcomes, messages = _ingest(landing, tmp_path)
    with duckdb.connect(str(database), read_only=True) as con:
        [(reason, raw)] = con.execute(
            "select reason, raw_record from ops.quarantine where path = ? and line = 1",
            [str(marks.relative_to(landing))],
        ).fetchall()
    assert "code" in reason and forename not in reason + raw
    _assert_nothing_personal(tiny_la, _stored_text(database), messages)


def test_links_are_refused_never_followed(landing, tmp_path, tiny_la):
    outside = tmp_path / "elsewhere" / "100001" / "2025-09-20T15-05-00Z"
    outside.mkdir(parents=True)
    source = _first(landing, "marks.csv")
    (outside / "marks.csv").write_bytes(source.read_bytes())
    school = source.parents[1]
    (school / "2025-09-21T15-05-00Z").mkdir()
    (school / "2025-09-21T15-05-00Z" / "marks.csv").symlink_to("/etc/passwd")
    (landing / "100099").symlink_to(outside.parent, target_is_directory=True)
    database, outcomes, messages = _ingest(landing, tmp_path)
    links = {str(school.relative_to(landing) / "2025-09-21T15-05-00Z" / "marks.csv"), "100099"}
    for link in links:
        assert outcomes[link].rejected and "symbolic link" in outcomes[link].reason
    _assert_rest_ingested(outcomes, links)
    stored = _stored_text(database)
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute(
            "select count(*) from events.mark_events where source_file like '100099%'"
        ).fetchone() == (0,)
    _assert_nothing_personal(tiny_la, stored, messages)
    # A second run does not report the same links again.
    _, again, _ = _ingest(landing, tmp_path)
    assert again == {}


def test_rows_for_another_school_are_quarantined(landing, tmp_path):
    marks = _first(landing, "marks.csv")
    own = marks.parents[1].name
    other = next(p.name for p in landing.iterdir() if p.name != own)
    lines = marks.read_text().splitlines()
    lines[1] = lines[1].replace(own, other, 1)
    marks.write_text("\n".join(lines) + "\n")
    database, outcomes, _ = _ingest(landing, tmp_path)
    with duckdb.connect(str(database), read_only=True) as con:
        reasons = [
            r
            for (r,) in con.execute(
                "select reason from ops.quarantine where path = ? and line = 2",
                [str(marks.relative_to(landing))],
            ).fetchall()
        ]
        stored = con.execute(
            "select count(*) from events.mark_events where urn = ? and source_file like ?",
            [other, f"{own}/%"],
        ).fetchone()[0]
    assert reasons == [f"the row is for school {other} but the extract is school {own}'s"]
    assert stored == 0
    _assert_rest_ingested(outcomes, set())


def test_one_unreadable_file_is_that_files_alone(landing, tmp_path, tiny_la):
    marks = _first(landing, "marks.csv")
    lines = marks.read_text().splitlines()
    # A 1 MB quoted value (Python's csv module stopped the whole ingest at 128 KiB).
    fields = lines[1].split(",")
    fields[-1] = '"' + "x" * 1_000_000 + '"'
    lines[1] = ",".join(fields)
    marks.write_text("\n".join(lines) + "\n")
    fifo = marks.parent.parent / "2025-09-30T15-05-00Z" / "pupils.csv"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    bomb = marks.parent.parent / "2025-09-29T15-05-00Z" / "marks.csv.gz"
    bomb.parent.mkdir()
    bomb.write_bytes(gzip.compress(lines[0].encode() + b"\n" + b"1" * 20_000_000))
    limits = Limits(file_bytes=10 * 1024 * 1024)
    database, outcomes, messages = _ingest(landing, tmp_path, limits)
    expected = {
        marks: "line 2 is longer than 64 KiB",
        fifo: "not a regular file",
        bomb: "larger than 10 MiB once decompressed",
    }
    for path, reason in expected.items():
        outcome = outcomes[str(path.relative_to(landing))]
        assert outcome.rejected and reason in outcome.reason, outcome
    _assert_rest_ingested(outcomes, {str(p.relative_to(landing)) for p in expected})
    assert "x" * 100 not in _stored_text(database) + messages


def test_impossible_dates_are_quarantined_on_arrival_and_case_is_one_rule(landing, tmp_path):
    marks = _first(landing, "marks.csv")
    lines = marks.read_text().splitlines()
    header = lines[0].split(",")
    at = {name: header.index(name) for name in ("session_date", "session", "code")}
    impossible = ["1900-01-01", "0001-01-01", "2099-01-05", "9999-12-31"]
    for number, day in enumerate(impossible, start=1):
        fields = lines[number].split(",")
        fields[at["session_date"]] = day
        lines[number] = ",".join(fields)
    # The same lower-case spelling for both columns: both accepted, stored in capitals.
    fields = lines[5].split(",")
    fields[at["session"]], fields[at["code"]] = fields[at["session"]].lower(), "n"
    lines[5] = ",".join(fields)
    marks.write_text("\n".join(lines) + "\n")
    database, outcomes, _ = _ingest(landing, tmp_path)
    path = str(marks.relative_to(landing))
    with duckdb.connect(str(database), read_only=True) as con:
        refused = dict(
            con.execute(
                "select line, reason from ops.quarantine where path = ? and line <= 5", [path]
            ).fetchall()
        )
        stored = con.execute(
            "select count(*) from events.mark_events "
            "where session_date < date '2006-09-01' or session_date > date '2030-01-01'"
        ).fetchone()[0]
        lower = con.execute(
            "select session, code from events.mark_events where source_file = ? "
            "and source_line = 6",
            [path],
        ).fetchall()
    assert sorted(refused) == [2, 3, 4, 5]
    assert all("session_date" in reason for reason in refused.values())
    assert stored == 0
    assert lower == [(lower[0][0].upper(), "N")] and lower[0][0] in ("AM", "PM")
    _assert_rest_ingested(outcomes, set())
