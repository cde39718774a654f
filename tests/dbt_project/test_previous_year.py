"""A store holding two academic years: last year's first school days, then this year's.

Every mart is per academic year, so every figure of both years must still equal the
generator's record; weekly_attendance puts each week beside the same school week of last year.
"""

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from expectations.checkpoint import audit
from ingestion.ingest import ingest_landing
from pipeline.marts import build_marts
from serving.packs.targeting import write_targeting_packs
from serving.reports import figures, trends
from serving.reports.line_chart import line_figure
from synthetic import SyntheticLA, build_la
from tests.support.extracts import deliver
from tests.support.marts import CONFIG, TRUTH, assert_matches, rows
from tests.support.report_pages import read_page
from tests.support.truth import action_list as truth_action_list
from tests.support.truth import pack as truth_pack
from tests.support.truth import registers as truth
from tests.support.truth import weekly as truth_weekly

# Small: the point is two years, not every case (test_marts_truth has those).
TWO_YEARS = replace(
    CONFIG,
    schools=3,
    pupils=80,
    school_days=12,
    window_days=5,
    closure_day=4,
    previous_year_school_days=12,
)


@pytest.fixture(scope="module")
def la() -> SyntheticLA:
    return build_la(TWO_YEARS)


@pytest.fixture(scope="module")
def warehouse(la: SyntheticLA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("two_years")
    deliver(la, root / "landing", range(len(la.days)))
    ingest_landing(root / "landing", root / "warehouse.duckdb", progress=lambda _: None)
    build_marts(root / "warehouse.duckdb", root, progress=lambda _: None)
    return root / "warehouse.duckdb"


def test_the_store_holds_two_academic_years(la: SyntheticLA) -> None:
    last = len(la.days) - 1
    for relation in ("pupil_attendance", "pupils_for_support"):
        keys = TRUTH[relation](la, last)
        assert {year for _, _, year in keys} == {"2024/25", "2025/26"}, relation


@pytest.mark.parametrize("relation", list(TRUTH))
def test_every_figure_of_both_years_matches_the_truth(
    warehouse: Path, la: SyntheticLA, relation: str
) -> None:
    assert_matches(la, len(la.days) - 1, relation, rows(warehouse, relation))


def test_this_years_weeks_sit_beside_last_years(warehouse: Path, la: SyntheticLA) -> None:
    expected = truth_weekly.expected_weekly_attendance(la, len(la.days) - 1)
    this_year = [row for key, row in expected.items() if key[2] == "2025/26"]
    assert this_year and all(row["last_year_week_start"] for row in this_year)
    got = [r for r in rows(warehouse, "weekly_attendance") if r["academic_year"] == "2025/26"]
    assert all(r["last_year_ytd_attendance_rate"] is not None for r in got)


def test_the_trend_chart_draws_last_years_line(warehouse: Path, la: SyntheticLA) -> None:
    """What the reports and the targeting pack show (serving/reports/trends.py)."""
    urn = la.schools[0].urn
    expected = truth_weekly.expected_weekly_attendance(la, len(la.days) - 1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        weeks = trends.school_trends(con, urn).weeks
    chart = trends.trend_chart(weeks)
    assert [s.name for s in chart.series] == [
        "This year, to date",
        "Last year, to the same school week",
    ]
    want = [
        row["last_year_ytd_attendance_rate"]
        for key, row in sorted(expected.items())
        if key[:3] == ("school", urn, "2025/26")
    ]
    assert chart.series[1].values == pytest.approx(want, abs=1e-12)
    assert "Last year, to the same school week" in line_figure(chart)


def test_weekly_attendance_passes_its_quality_suite(warehouse: Path, tmp_path: Path) -> None:
    """The GX suite (expectations/suites/weekly_attendance.json) on both years' weeks."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    report = audit(copy, ["weekly_attendance"])
    assert len(report.outcomes) >= 9
    assert report.success and not report.warnings, [o for o in report.outcomes if not o.success]


def test_the_reports_charts_cover_this_academic_year_only(warehouse: Path, la: SyntheticLA) -> None:
    last = len(la.days) - 1
    urns = tuple(s.urn for s in la.schools)
    area = figures.Area("la", la.config.la_code, "LA", urns)
    this_year = [d for d in la.days if d >= la.config.start]
    absent = sum(
        row["sessions"]
        for (_, day, _, category), row in truth.expected_school_daily_reasons(la, last).items()
        if day >= la.config.start and category in ("authorised", "unauthorised")
    )
    flagged = [
        key
        for key in truth_action_list.expected_pupils_for_support(la, last)
        if key[2] == "2025/26"
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        weeks = figures.weekly(con, area).bars
        reasons = figures.reasons(con, area).bars
        support = figures.support(con, area).bars
    assert len(weeks) == len({d - timedelta(days=d.weekday()) for d in this_year})
    assert sum(bar.value for bar in reasons) == absent
    assert support[0].value == sum(
        truth_action_list.expected_pupils_for_support(la, last)[k]["persistent_absence"]
        for k in flagged
    )


def test_the_targeting_packs_show_this_year_beside_last(
    warehouse: Path, la: SyntheticLA, tmp_path: Path
) -> None:
    """A school's pack lists this year's pupils only, and its weeks carry last year's rate
    to the same school week (serving/packs/, tests/serving/packs/ for the rest)."""
    last = len(la.days) - 1
    packs = write_targeting_packs(warehouse, tmp_path / "targeting")
    assert {p.stem for p in packs} == {s.urn for s in la.schools}
    for page in packs:
        listed = truth_pack.pack_pupils(la, last, page.stem)
        read = read_page(page)
        shown = {
            row[1]
            for key in ("severe", "persistent", "other")
            if f"{key}-table" in read.tables
            for row in read.tables[f"{key}-table"][1:]
        }
        assert shown == set(listed), page.stem
        weeks = read.tables["weeks-table"][1:]
        assert weeks and all(row[-1] != "–" for row in weeks), page.stem
