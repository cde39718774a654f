"""The operational tables published with the marts, and each school's data-quality file.

Two waves of generated extracts, with faults of known kinds (the generator's rows that must
be quarantined, files damaged here, a whole-authority file carrying a column the contract
does not name), go through the pipeline's own steps (ingest, dbt build, GX audit, publish)
and the exports. What is published and sent is compared with the files fed in."""

import csv
import gzip
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ingestion.landing import stamp_of
from pipeline import daily
from pipeline.run_info import RunInfo
from publication.publish import current_parquet_folder
from serving.data_quality import COLUMNS, FOLDER, LA_FILE
from serving.exports import MANIFEST, write_exports
from synthetic import SyntheticLA, write_extracts_for_day
from tests.support.extracts import deliver
from tests.support.truth import ops as truth_ops

# A phone number in a column the contract does not name: it must never be published or sent.
UNKNOWN_VALUE = "07700 900461"
OPS_TABLES = ("ingest_audit", "quarantine")


@dataclass
class Wave:
    day: int
    rejected: dict[str, str]  # path -> a fragment of the reason it must be rejected with
    quarantined: dict[str, int]  # path -> rows the generator made to be quarantined
    exports: Path


@dataclass
class Fed:
    la: SyntheticLA
    landing: Path
    published: Path
    waves: list[Wave]


def _path(la: SyntheticLA, school: int, day: int, kind: str) -> str:
    s = la.schools[school]
    return f"{s.urn}/{stamp_of(la.extract_time(day))}/{kind}.{s.file_format}"


def _run(root: Path, run_id: str) -> RunInfo:
    run = RunInfo.for_day(
        None, landing=str(root / "landing"), warehouse=str(root / "warehouse"), run_id=run_id
    )
    daily.ingest(run)
    daily.build(run)
    daily.audit(run)
    daily.publish(run, None)
    return run


@pytest.fixture(scope="module")
def fed(tiny_la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Fed:
    la, root = tiny_la, tmp_path_factory.mktemp("data_quality")
    landing = root / "landing"
    assert [la.schools[i].file_format for i in (0, 3)] == ["csv", "jsonl.gz"]

    # Wave 1: days 0-2, without school 2 (its extracts come late); a gzip file cut short,
    # and a CSV whose header lost its upn column.
    late = la.schools[2].urn
    deliver(la, landing, range(3), skip_urns=(late,))
    cut, headless = _path(la, 3, 1, "marks"), _path(la, 0, 2, "marks")
    (landing / cut).write_bytes((landing / cut).read_bytes()[:40])
    text = (landing / headless).read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    (landing / headless).write_text(header.replace("upn", "pupil_ref", 1) + "\n" + rest)
    _run(root, "wave-1")
    exports = root / "warehouse" / "exports"
    write_exports(root / "warehouse" / "published", exports, la.days[2])
    first = Wave(
        2,
        {cut: "truncated or damaged", headless: "has no column upn"},
        truth_ops.planned_quarantine(la, range(3)),
        exports / la.days[2].isoformat(),
    )

    # Wave 2: days 3-5, school 2's late days 0-2, and a whole-authority file (its path
    # names no school): school 0's marks of day 1 again, with a carer's phone number in a
    # column the contract ignores.
    deliver(la, landing, range(3, 6))
    for day in range(3):
        write_extracts_for_day(la, day, landing, urns={late})
    source = landing / _path(la, 0, 1, "marks")
    authority = f"authority/{stamp_of(la.extract_time(1))}/marks.csv"
    with source.open(encoding="utf-8", newline="") as rows:
        table = list(csv.DictReader(rows))
    (landing / authority).parent.mkdir(parents=True)
    with (landing / authority).open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, [*table[0], "carer_phone"], lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "carer_phone": UNKNOWN_VALUE} for row in table)
    # And a row cut two fields short: its fields do not line up, so it keeps no values.
    with (landing / authority).open("a", encoding="utf-8") as out:
        out.write((landing / authority).read_text().splitlines()[1].rsplit(",", 2)[0] + "\n")
    planned = truth_ops.planned_quarantine(la, range(3, 6))
    school_0 = truth_ops.planned_quarantine(la, range(1, 2))[_path(la, 0, 1, "marks")]
    planned[authority] = school_0 + 1
    _run(root, "wave-2")
    write_exports(root / "warehouse" / "published", exports, la.days[5])
    second = Wave(5, {}, planned, exports / la.days[5].isoformat())
    return Fed(la, landing, root / "warehouse" / "published", [first, second])


def _table(fed: Fed, name: str, parquet: bool = False) -> list[dict]:
    source = (
        f"read_parquet('{current_parquet_folder(fed.published) / f'{name}.parquet'}')"
        if parquet
        else f"main.{name}"
    )
    with duckdb.connect(str(fed.published / "published.duckdb"), read_only=True) as con:
        cursor = con.execute(f"select * from {source} order by all")
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_every_file_fed_is_in_the_published_audit_with_its_rows(fed: Fed) -> None:
    audit = {row["path"]: row for row in _table(fed, "ingest_audit")}
    files = truth_ops.fed_files(fed.landing)
    assert set(audit) == set(files)
    rejected = {p: why for wave in fed.waves for p, why in wave.rejected.items()}
    quarantined = {p: n for wave in fed.waves for p, n in wave.quarantined.items()}
    for path, row in audit.items():
        assert row["urn"] == truth_ops.school_of(path), path
        assert row["rejected"] == (path in rejected), path
        if path in rejected:
            assert rejected[path] in row["reason"], path
            assert row["rows_new"] + row["rows_duplicate"] + row["rows_quarantined"] == 0
            assert row["rows_rejected"] == row["rows_read"]
            # The cut gzip file could not be read at all; the CSV held all its lines.
            assert row["rows_read"] == 0 or row["rows_read"] == truth_ops.data_lines(files[path])
            continue
        assert row["rows_read"] == truth_ops.data_lines(files[path]), path
        assert row["rows_quarantined"] == quarantined.get(path, 0), path
        assert row["rows_rejected"] == 0
        assert row["rows_read"] == row["rows_new"] + row["rows_duplicate"] + row["rows_quarantined"]
    # The whole-authority copy adds nothing new: its good rows were all seen in school 0's.
    [authority] = [p for p in audit if audit[p]["urn"] is None]
    assert audit[authority]["rows_new"] == 0


def test_the_published_quarantine_holds_each_planned_row_and_no_name_or_unknown_value(
    fed: Fed,
) -> None:
    rows = _table(fed, "quarantine")
    per_file: dict[str, int] = {}
    for row in rows:
        per_file[row["path"]] = per_file.get(row["path"], 0) + 1
    assert per_file == {p: n for wave in fed.waves for p, n in wave.quarantined.items()}
    contract = {
        "urn", "upn", "date_of_birth", "sex", "ncy", "admission_date", "leaving_date",
        "sen_provision", "sen_primary_need", "fsm_eligible", "looked_after", "child_in_need",
        "child_protection_plan", "effective_date", "extracted_at", "session_date", "session",
        "code", "minutes_late", "last_modified",
    }  # fmt: skip
    forbidden = [*fed.la.forbidden_strings(), UNKNOWN_VALUE]
    [short] = [r for r in rows if r["urn"] is None and "fields but the header has" in r["reason"]]
    assert short["raw_record"] == "{}"
    assert short["line"] == 1 + truth_ops.data_lines(fed.landing / short["path"])
    for row in rows:
        assert set(json.loads(row["raw_record"])) <= contract, row["raw_record"]
        assert not any(s in row["raw_record"] or s in row["reason"] for s in forbidden)
    assert {row["as_of"] for row in rows} == {
        row["as_of"] for row in _table(fed, "school_daily_attendance")
    }


@pytest.mark.parametrize("name", OPS_TABLES)
def test_parquet_files_of_the_same_names_hold_the_same_rows(fed: Fed, name: str) -> None:
    assert _table(fed, name, parquet=True) == _table(fed, name)


def test_each_school_gets_its_own_problems_once_and_the_authority_file_goes_to_the_la(
    fed: Fed,
) -> None:
    sent_before: set[tuple[str, str]] = set()
    for wave in fed.waves:
        expected = truth_ops.expected_problems(wave.quarantined, set(wave.rejected))
        folder = wave.exports / FOLDER
        names = {f"{urn}.csv" if urn else LA_FILE: per_file for urn, per_file in expected.items()}
        assert {p.name for p in folder.iterdir()} == set(names)
        manifest = json.loads((wave.exports / MANIFEST).read_text())
        for name, per_file in names.items():
            with (folder / name).open(encoding="utf-8", newline="") as source:
                reader = csv.DictReader(source)
                assert tuple(reader.fieldnames or ()) == COLUMNS
                lines = list(reader)
            counted: dict[str, int] = {}
            for line in lines:
                counted[line["file"]] = counted.get(line["file"], 0) + 1
                # Only the school's own files (the LA's: files naming no school).
                assert truth_ops.school_of(line["file"]) == (name[:-4] if name != LA_FILE else None)
                assert (line["problem"] == "file_rejected") == (line["file"] in wave.rejected)
                assert (line["line"] == "") == (line["problem"] == "file_rejected")
                assert line["reason"]
            assert counted == per_file, name
            assert manifest["files"][f"{FOLDER}/{name}"]["rows"] == len(lines)
            sent = {(line["file"], line["line"]) for line in lines}
            assert not sent & sent_before, "a problem was sent twice"
            sent_before |= sent
            text = (folder / name).read_text(encoding="utf-8")
            assert not any(s in text for s in [*fed.la.forbidden_strings(), UNKNOWN_VALUE])
            assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o640
    first, second = (json.loads((w.exports / MANIFEST).read_text())[FOLDER] for w in fed.waves)
    assert first["ingested_after"] is None
    assert second["ingested_after"] == first["ingested_through"]


def test_a_rerun_of_a_day_covers_the_same_files(fed: Fed) -> None:
    wave = fed.waves[1]
    before = {p.name: p.read_bytes() for p in (wave.exports / FOLDER).iterdir()}
    write_exports(fed.published, wave.exports.parent, fed.la.days[wave.day])
    assert {p.name: p.read_bytes() for p in (wave.exports / FOLDER).iterdir()} == before


def test_gzip_damage_here_is_the_generators_file_cut(fed: Fed) -> None:
    """The fault is what the test says it is: the file fed in no longer decompresses."""
    [cut] = [p for p in fed.waves[0].rejected if p.endswith(".gz")]
    with pytest.raises(EOFError):
        gzip.decompress((fed.landing / cut).read_bytes())
