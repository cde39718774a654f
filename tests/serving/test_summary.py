"""The short account of a publication: its figures are the generator's truth for the days
delivered, its quarantine the ingest audit's, and it reads the published folder alone."""

import shutil
from dataclasses import replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from publication.record import read_record
from serving.summary import summarise
from synthetic import SyntheticLA
from tests.support.truth import action_list as truth_action_list
from tests.support.truth import registers as truth
from tests.support.truth import reports as truth_reports


@pytest.fixture(scope="module")
def expected(serving_la: SyntheticLA) -> dict[tuple, dict]:
    return truth.expected_pupil_attendance(serving_la, serving_la.config.school_days - 1)


def test_enrolments_and_the_attendance_rate_are_the_truths(
    published: Path, serving_la: SyntheticLA, expected: dict[tuple, dict]
) -> None:
    summary = summarise(published)
    assert summary.enrolments == len(expected)
    attended = sum(r["present_sessions"] + r["aea_sessions"] for r in expected.values())
    possible = sum(r["possible_sessions"] for r in expected.values())
    assert summary.attendance_rate == pytest.approx(float(Fraction(attended, possible)))
    last = serving_la.config.school_days - 1
    assert datetime.fromisoformat(summary.as_of) == truth.expected_as_of(serving_la, last)


def test_persistent_absence_by_sen_provision_is_the_truths(
    published: Path, expected: dict[tuple, dict]
) -> None:
    summary = summarise(published)
    groups: dict[str, list[bool]] = {}
    for row in expected.values():
        groups.setdefault(row["sen_provision"], []).append(row["is_persistent_absence"])
    assert set(summary.persistent_absence_by_sen) == set(groups) == {"N", "K", "E"}
    for provision, flags in groups.items():
        count, share = summary.persistent_absence_by_sen[provision]
        assert count == len(flags), provision
        assert share == pytest.approx(sum(flags) / len(flags)), provision


def test_quarantined_rows_and_rejected_files_are_the_ingest_audits(published: Path) -> None:
    with duckdb.connect(str(published.parent / "warehouse.duckdb"), read_only=True) as con:
        quarantined, rejected = con.execute(
            "select sum(rows_quarantined), count(*) filter (where rejected) from ops.ingest_audit"
        ).fetchone()
    summary = summarise(published)
    assert (summary.rows_quarantined, summary.files_rejected) == (quarantined, rejected)
    assert quarantined > 0


def test_the_rendered_summary_shows_each_figure(published: Path, serving_la: SyntheticLA) -> None:
    last_day = serving_la.config.school_days - 1
    summary = summarise(published)
    text = summary.render()
    assert f"Enrolments: {summary.enrolments}" in text
    assert f"Attendance rate: {summary.attendance_rate:.2%}" in text
    for provision, (count, share) in summary.persistent_absence_by_sen.items():
        assert f"  {provision} (" in text and f"{share:.1%} of {count} enrolments" in text
    assert f"Quarantined rows: {summary.rows_quarantined}; rejected files: 0" in text
    # The first publication: every pupil on the action list is new (the truth's count).
    listed = len(truth_action_list.expected_pupils_for_support(serving_la, last_day))
    assert (summary.listed, summary.newly_listed) == (listed, listed) != (0, 0)
    assert f"Action list: {listed} pupils listed, {listed} newly listed" in text
    record = read_record(published)
    assert record is not None and f"(version {record.version})" in text


def test_it_reads_the_published_folder_alone_and_the_record_it_is_given(
    published: Path, tmp_path: Path
) -> None:
    """A copy of the published folder, without the warehouse beside it, is enough; a record
    the caller read is used as given."""
    copy = tmp_path / "published"
    shutil.copytree(published, copy, symlinks=True)
    record = read_record(copy)
    assert record is not None
    alone = summarise(copy)
    assert alone.enrolments == summarise(published).enrolments
    given = summarise(copy, replace(record, version="v-given", rows_quarantined=7))
    assert (given.version, given.rows_quarantined) == ("v-given", 7)
    assert given.published == copy


def test_there_is_no_summary_before_the_first_publication(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no publication"):
        summarise(tmp_path)


def test_the_dfe_comparable_headline_counts_compulsory_school_age_only(
    published: Path, serving_la: SyntheticLA
) -> None:
    """Beside the all-pupil figures, compulsory school age only (5 to 15 on 31 August before
    the year, from the generated dates of birth), each line saying whom it counts."""
    last = serving_la.config.school_days - 1
    want = truth_reports.headline(serving_la, last, {s.urn for s in serving_la.schools}, True)
    everyone = truth_reports.headline(serving_la, last, {s.urn for s in serving_la.schools})
    assert 0 < want["enrolments"] < everyone["enrolments"]
    summary = summarise(published)
    top = summary.comparable
    assert top is not None
    assert (top.enrolments, top.possible_sessions, top.attended_sessions) == (
        want["enrolments"],
        want["possible"],
        want["attended"],
    )
    assert (top.persistent_absence, top.severe_absence) == (want["persistent"], want["severe"])
    text = summary.render()
    assert "all pupils on roll, including those below or above compulsory school age" in text
    line = next(x for x in text.splitlines() if x.startswith("DfE-comparable headline"))
    assert "compulsory school age only" in line.lower()
    assert f"{want['enrolments']:,} enrolments" in line
    assert f"attendance {want['attended'] / want['possible']:.1%}" in line
    assert f"severe absence {want['severe'] / want['enrolments']:.1%}" in line
