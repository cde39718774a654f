"""The weekly trend and the benchmarks of the reports and of a school's targeting pack
(serving/reports/trends.py): the weeks and the area's rates against the generator's record,
England's and the region's against the DfE's published file."""

from pathlib import Path

import duckdb
import pytest

from publication.publish import PUBLISHED_DB
from serving.html_report import write_html_reports
from serving.reports import trends
from synthetic import SyntheticLA
from tests.support.report_pages import read_page
from tests.support.truth import registers as truth
from tests.support.truth import weekly as truth_weekly


@pytest.fixture(scope="module")
def con(published: Path):
    with duckdb.connect(str(published / PUBLISHED_DB), read_only=True) as connection:
        yield connection


def test_a_schools_weeks_equal_the_truth(con, serving_la: SyntheticLA) -> None:
    expected = truth_weekly.expected_weekly_attendance(serving_la, len(serving_la.days) - 1)
    for school in serving_la.schools:
        got = trends.school_trends(con, school.urn).weeks
        want = sorted((k[3], row) for k, row in expected.items() if k[:2] == ("school", school.urn))
        assert [w.week_start for w in got] == [monday for monday, _ in want]
        for week, (_, row) in zip(got, want, strict=True):
            assert week.school_week == row["school_week"]
            assert week.possible_sessions == row["possible_sessions"]
            assert week.ytd_attendance_rate == pytest.approx(row["ytd_attendance_rate"], abs=1e-12)
            # The serving LA holds this year only.
            assert week.last_year_ytd_attendance_rate is None


def _rates(rows: list[dict]) -> tuple[float, float, float]:
    attended = sum(r["present_sessions"] + r["aea_sessions"] for r in rows)
    possible = sum(r["possible_sessions"] for r in rows)
    return (
        attended / possible,
        sum(r["is_persistent_absence"] for r in rows) / len(rows),
        sum(r["is_severe_absence"] for r in rows) / len(rows),
    )


def test_the_dfe_comparable_figure_counts_compulsory_school_age_only(
    con, serving_la: SyntheticLA
) -> None:
    rows = list(truth.expected_pupil_attendance(serving_la, len(serving_la.days) - 1).values())
    of_age = [r for r in rows if r["compulsory_school_age"]]
    assert 0 < len(of_age) < len(rows), "nursery or reception pupils are left out"
    urns = tuple(s.urn for s in serving_la.schools)
    everyone, comparable, england, region = trends.benchmark_comparison(
        con, urns, serving_la.config.la_code, trends.ALL_PHASES
    )
    assert everyone.population == "All pupils"
    assert comparable.population == "Compulsory school age (DfE-comparable)"
    for got, want in ((everyone, _rates(rows)), (comparable, _rates(of_age))):
        have = (got.attendance_rate, got.persistent_absence_rate, got.severe_absence_rate)
        assert have == pytest.approx(want, abs=1e-12)
        assert got.overall_absence_rate == pytest.approx(1 - want[0], abs=1e-12)
    assert england.population.startswith("England") and region.population.startswith("East")


def test_england_and_the_region_are_the_dfe_published_figures() -> None:
    """The National and East of England (Essex, 881) Total rows of EES_ytd_data.csv in
    dfe-analytical-services/attendance-data-dashboard at 8f4979c (2025/26 to date)."""
    england, region = trends.dfe_rates("881")
    assert england.population == "England, state-funded schools (DfE, 2025/26 to date)"
    assert england.attendance_rate == pytest.approx(0.931168, abs=1e-6)
    assert england.overall_absence_rate == pytest.approx(0.068832, abs=1e-6)
    assert england.persistent_absence_rate == pytest.approx(0.187818, abs=1e-6)
    assert england.severe_absence_rate is None  # not in the year-to-date file
    assert region.population.startswith("East of England")
    assert region.attendance_rate == pytest.approx(0.93159, abs=1e-5)
    secondary = trends.dfe_rates(None, "Secondary")
    assert [r.population for r in secondary] == [
        "England, secondary schools (DfE, 2025/26 to date)"
    ]
    assert secondary[0].attendance_rate == pytest.approx(0.915102, abs=1e-6)


def test_the_reports_show_the_trend_and_the_benchmarks(
    published: Path, serving_la: SyntheticLA, tmp_path: Path
) -> None:
    pages = write_html_reports(published / PUBLISHED_DB, tmp_path)
    expected = truth_weekly.expected_weekly_attendance(serving_la, len(serving_la.days) - 1)
    for page in pages:
        level, code = page.stem.split("_", 1)
        read = read_page(page)
        weeks = sorted(k[3] for k in expected if k[:2] == (level, code))
        trend = read.tables["trend-table"]
        assert len(trend) - 1 == len(weeks), page.name
        assert trend[0] == ["School week", "This year, to date"]  # no last year held
        benchmarks = read.tables["benchmarks-table"]
        assert benchmarks[0][1:3] == ["All pupils", "Compulsory school age (DfE-comparable)"]
        assert "Attendance rate" in benchmarks[1][0]
        if level == "la":
            assert benchmarks[1][3:] == ["93.1%", "93.2%"]
