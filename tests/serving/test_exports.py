"""The register day's CSV exports, from the published marts only: the action list is exactly
pupils_for_support, the school figures are the register day's, the manifest names the
publication, and a re-run replaces the day's folder whole."""

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from publication.record import read_record
from serving.action_list.reasons import reasons_text
from serving.exports import MANIFEST, write_exports
from synthetic import SyntheticLA
from tests.support.truth import action_list as truth_action_list
from tests.support.truth import cme as truth_cme
from tests.support.truth import registers as truth

ACTION_KEY = ("urn", "upn", "academic_year")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def _matches(text: str, value: object) -> bool:
    """Whether a CSV cell holds the truth's value."""
    if value is None:
        return text == ""
    if isinstance(value, bool):
        return text == str(value).lower()
    if isinstance(value, float):
        return float(text) == pytest.approx(value, abs=1e-12)
    if isinstance(value, date):
        return text == value.isoformat()
    return text == str(value)


def _assert_rows_are_the_truth(rows: list[dict[str, str]], key: tuple, expected: dict) -> None:
    by_key = {tuple(row[c] for c in key): row for row in rows}
    assert len(by_key) == len(rows), "duplicate keys"
    assert set(by_key) == {tuple(_text(v) for v in k) for k in expected}
    for k, want in expected.items():
        row = by_key[tuple(_text(v) for v in k)]
        for column, value in want.items():
            assert _matches(row[column], value), (k, column, row[column], value)


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


@pytest.fixture(scope="module")
def last_day(serving_la: SyntheticLA) -> int:
    return serving_la.config.school_days - 1


def test_the_action_list_is_pupils_for_support_in_priority_order_with_reasons(
    published: Path, serving_la: SyntheticLA, last_day: int, tmp_path: Path
) -> None:
    result = write_exports(published, tmp_path, serving_la.days[last_day])
    rows = _csv(Path(result["folder"]) / "action_list.csv")
    expected = truth_action_list.expected_pupils_for_support(serving_la, last_day)
    assert len(rows) == len(expected) > 0
    assert [row["priority"] for row in rows] == [str(i) for i in range(1, len(rows) + 1)]
    for row in rows:
        want = expected[(row["urn"], row["upn"], row["academic_year"])]
        assert row["priority"] == str(want["priority"])
        assert row["absence_rate"] == f"{want['overall_absence_rate'] * 100:.1f}%"
        assert row["absence_rate"].endswith("%") and len(row["absence_rate"].split(".")[1]) == 2
        # The first publication: every pupil is new.
        assert row["new_since_last_publication"] == "new"
        assert row["reasons"] == reasons_text(want)
        assert row["school_name"] == want["school_name"] and row["ncy"] == want["ncy"]
    assert any("Persistent absence" in row["reasons"] for row in rows)


def test_offsite_provision_counts_k_and_b_sessions_per_school(
    published: Path, serving_la: SyntheticLA, last_day: int, tmp_path: Path
) -> None:
    result = write_exports(published, tmp_path, serving_la.days[last_day])
    rows = _csv(Path(result["folder"]) / "offsite_provision.csv")
    expected = truth_action_list.expected_offsite_counts(serving_la, last_day)
    got = {(row["urn"], row["academic_year"]): row for row in rows}
    assert set(expected) <= set(got)
    for key, row in got.items():
        want = expected.get(key, {"k_sessions": 0, "b_sessions": 0})
        assert (row["k_sessions"], row["b_sessions"]) == (
            str(want["k_sessions"]),
            str(want["b_sessions"]),
        ), key
    assert any(int(row["b_sessions"]) > 0 for row in rows)


def test_the_cme_list_is_children_missing_education_listed_first_and_not_world_readable(
    published: Path, serving_la: SyntheticLA, last_day: int, tmp_path: Path
) -> None:
    result = write_exports(published, tmp_path, serving_la.days[last_day])
    path = Path(result["folder"]) / "children_missing_education.csv"
    rows = _csv(path)
    expected = truth_cme.expected_children_missing_education(serving_la, last_day)
    assert len(rows) == len(expected) > 0
    _assert_rows_are_the_truth(rows, ("urn", "upn"), expected)
    order = [(row["status"] == "watch", -int(row["school_days_since"])) for row in rows]
    assert order == sorted(order)
    assert path.stat().st_mode & 0o007 == 0


@pytest.mark.parametrize("day_index", [4, 9])
def test_the_school_figures_are_the_register_days_only(
    published: Path, serving_la: SyntheticLA, tmp_path: Path, day_index: int
) -> None:
    """Day 4 is the closure day of the generated LA: a closed school has no row for it."""
    day = serving_la.days[day_index]
    result = write_exports(published, tmp_path, day)
    rows = _csv(Path(result["folder"]) / "school_daily_attendance.csv")
    everything = truth.expected_school_daily_attendance(serving_la, len(serving_la.days) - 1)
    expected = {k: v for k, v in everything.items() if k[1] == day}
    assert len(rows) == len(expected) > 0
    assert {row["session_date"] for row in rows} == {day.isoformat()}
    _assert_rows_are_the_truth(rows, ("urn", "session_date"), expected)
    assert result["files"]["school_daily_attendance.csv"]["rows"] == len(expected)


def test_a_day_without_school_has_a_header_and_no_rows(
    published: Path, serving_la: SyntheticLA, tmp_path: Path
) -> None:
    saturday = date(2025, 9, 6)
    assert saturday not in serving_la.days
    result = write_exports(published, tmp_path, saturday)
    lines = (Path(result["folder"]) / "school_daily_attendance.csv").read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("urn,")
    assert result["files"]["school_daily_attendance.csv"]["rows"] == 0


def test_the_manifest_names_the_publication_and_each_files_rows(
    published: Path, serving_la: SyntheticLA, last_day: int, tmp_path: Path
) -> None:
    day = serving_la.days[last_day]
    result = write_exports(published, tmp_path, day)
    folder = tmp_path / day.isoformat()
    assert Path(result["folder"]) == folder
    manifest = (folder / MANIFEST).read_text()
    record = read_record(published)
    assert record is not None
    for facts in (result, json.loads(manifest)):
        assert facts["register_day"] == day.isoformat()
        assert facts["publication"] == {
            "version": record.version,
            "as_of": record.as_of,
            "published_at": record.published_at,
        }
        assert facts["skipped"] == {}
        for name, file in facts["files"].items():
            assert file["rows"] == len(_csv(folder / name)), name
    # The generated extracts carry rows that must be quarantined: their schools' files.
    assert sorted(p.name for p in folder.iterdir()) == [
        "action_list.csv",
        "children_missing_education.csv",
        "data_quality",
        MANIFEST,
        "offsite_provision.csv",
        "school_daily_attendance.csv",
    ]


def test_a_rerun_replaces_the_days_folder_whole(
    published: Path, serving_la: SyntheticLA, last_day: int, tmp_path: Path
) -> None:
    day = serving_la.days[last_day]
    first = write_exports(published, tmp_path, day)
    folder = Path(first["folder"])
    (folder / "left-over.csv").write_text("from an older export\n")
    (folder / "action_list.csv").write_text("tampered\n")
    other_day = write_exports(published, tmp_path, serving_la.days[last_day - 1])
    again = write_exports(published, tmp_path, day)
    assert Path(again["folder"]) == folder
    assert not (folder / "left-over.csv").exists()
    assert len(_csv(folder / "action_list.csv")) == first["files"]["action_list.csv"]["rows"]
    # Other days' exports stay; nothing is left beside them.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [folder.name, Path(other_day["folder"]).name]
    )


def test_an_export_whose_mart_is_not_published_is_skipped_with_its_reason(
    published: Path, serving_la: SyntheticLA, last_day: int, tmp_path: Path
) -> None:
    partial = tmp_path / "published"
    shutil.copytree(published, partial, symlinks=True)
    with duckdb.connect(str(partial / "published.duckdb")) as con:
        con.execute("drop table pupils_for_support")
    result = write_exports(partial, tmp_path / "exports", serving_la.days[last_day])
    folder = Path(result["folder"])
    assert not (folder / "action_list.csv").exists()
    assert "pupils_for_support is not published" in result["skipped"]["action_list.csv"]
    assert [f for f in result["files"] if not f.startswith("data_quality/")] == [
        "children_missing_education.csv",
        "school_daily_attendance.csv",
    ]


def test_there_is_nothing_to_export_before_the_first_publication(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no publication"):
        write_exports(tmp_path / "published", tmp_path / "exports", date(2025, 9, 1))
